// NP postpaid (PRODUCT §2 NP, §4 shipment report, §5 events, §9 test
// values) over HTTP against the real Worker and its Net Protections
// sandbox: screening approved / declined / held and decided later by a
// signed provider notification, the 54,000 yen limit on a shopper's unpaid
// total, shipment report, cancel before shipment, refunds after it.
// Events reaching the merchant's webhook are verified with the public
// `standardwebhooks` library; NP's notifications to the Worker are signed
// here with the same library, independently of our Rust code.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { api, eventually, openCheckout, postPurchase, purchase, signedApi, startMerchant, startWorker } from './lib/harness.mjs';

// NP_NOTIFY_SECRET of edge-worker/wrangler.toml.
const NP_SECRET = 'whsec_a2Vzc2FpLW5wLXNhbmRib3gtbm90aWZ5LXNlY3JldC0wMQ==';
const HOLD_SECONDS = 4;

let worker;
let merchant;
before(async () => {
  merchant = await startMerchant();
  worker = await startWorker({ vars: { NP_HOLD_SECONDS: String(HOLD_SECONDS), WEBHOOK_TIMEOUT_MS: '2000' } });
  const r = await signedApi(worker, 'PUT', '/v1/merchant', { webhook_url: `${merchant.base}/webhooks` });
  assert.equal(r.status, 200, r.text);
});
after(async () => {
  await worker?.stop();
  await merchant?.close();
});
beforeEach(() => merchant.reset());

let seq = 0;
/** A buyer of its own (the limit counts per e-mail + phone). */
function buyer(domain = 'example.jp', overrides = {}) {
  seq += 1;
  const n = `${process.pid % 1000}${String(Date.now() % 1e5).padStart(5, '0')}${seq}`;
  return {
    name: '山田 太郎',
    kana: 'ヤマダ タロウ',
    postal_code: '150-0001',
    address: '東京都渋谷区神宮前1-2-3',
    phone: `090${n.slice(-8).padStart(8, '0')}`,
    email: `taro${n}@${domain}`,
    ...overrides,
  };
}

const npCheckout = (amount = 1100, tax = 100) =>
  openCheckout(worker, purchase(merchant, { pay_method: 'np', amount: String(amount), tax: String(tax) }));
const pay = (id, b) => api(worker, 'POST', `/pay/${id}/np`, b);
const payment = async (id) => (await signedApi(worker, 'GET', `/v1/payments/${id}`)).json;
const npTx = async (id) => (await api(worker, 'GET', `/sandbox/np/transactions/${id}`)).json;
const decide = (id, result, notify = true) => api(worker, 'POST', `/sandbox/np/screenings/${id}/decide`, { result, notify });
const eventsOf = (id) => merchant.accepted().filter((w) => w.payload.data.tracking_id === id).map((w) => w.payload.type);

/** Posts an NP screening notification to the Worker, signed (or not) as given. */
let ntfSeq = 0;
function notification(tx, result, id = `ntf_test_${++ntfSeq}`) {
  const body = JSON.stringify({
    type: 'transaction.screening_decided',
    timestamp: new Date().toISOString(),
    data: { np_transaction_id: tx.np_transaction_id, shop_transaction_id: tx.shop_transaction_id, result, decided_at: new Date().toISOString() },
  });
  return { id, body };
}
async function deliver({ id, body }, secret = NP_SECRET, headers) {
  const now = new Date();
  const h = headers ?? {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(id, now, body),
  };
  const res = await fetch(`${worker.base}/provider/np/notify`, { method: 'POST', headers: h, body });
  const text = await res.text();
  return { status: res.status, text, json: JSON.parse(text) };
}

/** A call to NP's API at the sandbox, signed as a shop (NP_SHOP_CODE / NP_API_SECRET of wrangler.toml). */
async function npApi(method, path, body) {
  const raw = JSON.stringify(body);
  const ts = Math.floor(Date.now() / 1000);
  const sig = 'v1=' + createHmac('sha256', 'np-sandbox-api-secret').update(`${ts}.${method}.${path}.${raw}`).digest('hex');
  const res = await fetch(`${worker.base}/sandbox/np${path}`, {
    method,
    headers: { 'content-type': 'application/json', 'x-np-merchant': 'NP0001', 'x-np-timestamp': String(ts), 'x-np-signature': sig },
    body: raw,
  });
  return { status: res.status, json: await res.json() };
}

/** A checkout paid by a buyer at hold.example: screening held. */
async function held(amount = 1100) {
  const id = await npCheckout(amount);
  const r = await pay(id, buyer('hold.example'));
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.status, 'held');
  return { id, tx: await npTx(`${id}-1`) };
}

describe('NP postpaid', () => {
  it('approved → authorized; the shipment report fixes the sale → paid; events in order at the webhook', async () => {
    const id = await npCheckout();
    const s = await api(worker, 'GET', `/pay/${id}/session`);
    assert.deepEqual(s.json.methods.map((m) => m.method), ['np']);
    const b = buyer();
    const r = await pay(id, b);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { status: 'authorized', next: `/pay/${id}/return` });
    assert.equal(merchant.notifications[0].payload.data.status, 'authorized');
    assert.equal(merchant.notifications[0].payload.data.method, 'np');

    // Only a masked e-mail is kept; NP has the buyer's details, we do not.
    const p = await payment(id);
    assert.equal(p.instrument, `NP postpaid (t***@example.jp)`);
    const stored = JSON.stringify(await api(worker, 'GET', `/pay/${id}/session`)) + JSON.stringify(p);
    for (const v of [b.name, b.kana, b.address, b.phone, b.email, '1500001', b.phone.replace(/-/g, '')]) {
      assert.ok(!stored.includes(v), `${v} is not stored`);
    }

    assert.equal((await signedApi(worker, 'POST', `/v1/payments/${id}/settle`)).json.error.code, 'use_shipment_report');
    const shipped = await signedApi(worker, 'POST', `/v1/payments/${id}/shipment`, {});
    assert.equal(shipped.status, 200, shipped.text);
    assert.equal(shipped.json.status, 'paid');
    assert.equal(shipped.json.captured, 1100);
    const tx = await npTx(`${id}-1`);
    assert.equal(tx.status, 'shipped');
    assert.equal(tx.invoice, 'issued');
    assert.equal(tx.sold_amount, 1100);
    const again = await signedApi(worker, 'POST', `/v1/payments/${id}/shipment`);
    assert.equal(again.status, 409);

    await eventually(() => eventsOf(id).length >= 2, { what: 'authorized and settled webhooks' });
    assert.deepEqual(eventsOf(id), ['payment.authorized', 'payment.settled']);
    assert.equal(merchant.accepted().filter((w) => w.payload.data.tracking_id === id).at(-1).payload.data.status, 'paid');
  });

  it('declined at screening (e-mail at decline.example) → 402 np_declined; the shopper may try again', async () => {
    const id = await npCheckout();
    const r = await pay(id, buyer('decline.example'));
    assert.equal(r.status, 402, r.text);
    assert.equal(r.json.error.code, 'np_declined');
    const s = await api(worker, 'GET', `/pay/${id}/session`);
    assert.equal(s.json.status, 'pending');
    assert.equal(s.json.last_error.code, 'np_declined');
    assert.equal((await pay(id, buyer())).json.status, 'authorized');
  });

  it('held (hold.example): the merchant hears "held", the shopper returns with OK, a signed notification later approves', async () => {
    const { id, tx } = await held();
    assert.equal(tx.status, 'pending');
    assert.equal(merchant.notifications[0].payload.data.status, 'held');
    // The order was taken: the shopper goes to success_url with OK.
    const ret = await api(worker, 'GET', `/pay/${id}/return`);
    assert.match(ret.text, new RegExp(`action="${merchant.base}/success"`));
    assert.match(ret.text, /name="res_result" value="OK"/);

    const d = await decide(`${id}-1`, 'approved');
    assert.equal(d.status, 200, d.text);
    assert.equal(d.json.notification_status, 200, 'the Worker took the notification');
    assert.equal((await payment(id)).status, 'authorized');
    await eventually(() => eventsOf(id).length >= 2, { what: 'held and authorized webhooks' });
    assert.deepEqual(eventsOf(id), ['payment.held', 'payment.authorized']);
    assert.equal((await signedApi(worker, 'POST', `/v1/payments/${id}/shipment`)).json.status, 'paid');
  });

  it('held, then declined by a signed notification → failed with np_declined; payment.failed delivered', async () => {
    const { id } = await held();
    // Shipping before the decision is refused.
    const early = await signedApi(worker, 'POST', `/v1/payments/${id}/shipment`);
    assert.equal(early.status, 409);
    assert.equal((await decide(`${id}-1`, 'declined')).json.notification_status, 200);
    const p = await payment(id);
    assert.equal(p.status, 'failed');
    assert.equal(p.error_code, 'np_declined');
    await eventually(() => eventsOf(id).length >= 2, { what: 'held and failed webhooks' });
    assert.deepEqual(eventsOf(id), ['payment.held', 'payment.failed']);
    assert.equal(merchant.accepted().find((w) => w.payload.type === 'payment.failed' && w.payload.data.tracking_id === id).payload.data.error_code, 'np_declined');
  });

  it(`held screenings are decided by the sandbox by itself ${HOLD_SECONDS} s later and notified`, async () => {
    const { id } = await held();
    const p = await eventually(async () => {
      const p = await payment(id);
      return p.status !== 'held' && p;
    }, { timeoutMs: (HOLD_SECONDS + 20) * 1000, everyMs: 500, what: 'the automatic decision' });
    assert.equal(p.status, 'authorized');
    const tx = await npTx(`${id}-1`);
    assert.equal(tx.notifications.at(-1).status, 200);
    await eventually(() => eventsOf(id).includes('payment.authorized'), { what: 'payment.authorized webhook' });
  });

  // Property: whatever the order in which a decision, its duplicate and a
  // contradicting late notification arrive, the payment ends in NP's one
  // decision, with one decision event.
  const permutations = (xs) => (xs.length <= 1 ? [xs] : xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p])));
  for (const truth of ['approved', 'declined']) {
    it(`duplicate and reordered notifications: every order ends ${truth === 'approved' ? 'authorized' : 'failed'}`, async () => {
      const other = truth === 'approved' ? 'declined' : 'approved';
      const want = truth === 'approved' ? 'authorized' : 'failed';
      const wantEvent = truth === 'approved' ? 'payment.authorized' : 'payment.failed';
      const ids = [];
      for (const order of permutations(['decision', 'duplicate', 'late'])) {
        const { id, tx } = await held();
        assert.equal((await decide(`${id}-1`, truth, false)).status, 200);
        const decision = notification(tx, truth);
        const msgs = { decision, duplicate: decision, late: notification(tx, other) };
        for (const name of order) {
          const r = await deliver(msgs[name]);
          assert.equal(r.status, 200, `${order.join(',')}: ${name} answered ${r.status} ${r.text}`);
        }
        const p = await payment(id);
        assert.equal(p.status, want, `order ${order.join(', ')}`);
        const decisions = p.history.filter((h) => /NP screening/.test(h.note));
        assert.equal(decisions.length, 1, `one decision recorded for ${order.join(', ')}`);
        ids.push(id);
      }
      await eventually(() => ids.every((id) => eventsOf(id).length >= 2), { what: 'decision webhooks' });
      await new Promise((r) => setTimeout(r, 300));
      for (const id of ids) assert.deepEqual(eventsOf(id), ['payment.held', wantEvent]);
    });
  }

  it('a notification that comes before NP has decided is answered 409 so NP sends it again; nothing changes', async () => {
    const { id, tx } = await held();
    const r = await deliver(notification(tx, 'approved'));
    assert.equal(r.status, 409, r.text);
    assert.equal(r.json.error.code, 'not_ready');
    assert.equal((await payment(id)).status, 'held');
    await decide(`${id}-1`, 'approved');
    assert.equal((await payment(id)).status, 'authorized');
  });

  it('an unverifiable notification is refused (401) and the Worker asks NP for the status instead', async () => {
    const { id, tx } = await held();
    assert.equal((await decide(`${id}-1`, 'approved', false)).status, 200);
    const before = (await npTx(`${id}-1`)).status_queries;
    // Signed with another secret, claiming a decline.
    const forged = await deliver(notification(tx, 'declined'), 'whsec_a2Vzc2FpLXNhbmRib3gtd2ViaG9vay1zZWNyZXQtMDE=');
    assert.equal(forged.status, 401, forged.text);
    assert.equal(forged.json.error.code, 'bad_signature');
    assert.ok((await npTx(`${id}-1`)).status_queries > before, 'NP was asked');
    assert.equal((await payment(id)).status, 'authorized', 'NP said approved, whatever the body claimed');

    // Unsigned, for a screening NP has not decided: refused, still held.
    const other = await held();
    const unsigned = await deliver(notification(other.tx, 'approved'), NP_SECRET, { 'content-type': 'application/json' });
    assert.equal(unsigned.status, 401);
    assert.equal((await payment(other.id)).status, 'held');
    // A stale timestamp does not verify either.
    const stale = notification(other.tx, 'approved');
    const old = new Date(Date.now() - 3600_000);
    const r = await deliver(stale, NP_SECRET, {
      'content-type': 'application/json', 'webhook-id': stale.id, 'webhook-timestamp': String(Math.floor(old.getTime() / 1000)),
      'webhook-signature': new Webhook(NP_SECRET).sign(stale.id, old, stale.body),
    });
    assert.equal(r.status, 401);
    assert.equal((await payment(other.id)).status, 'held');
  });

  it('an NP transaction its payment does not use (an answer lost on the way) is cancelled when NP notifies it', async () => {
    const id = await npCheckout();
    const b = buyer();
    // A registration whose answer never reached the Worker.
    const lost = await npApi('POST', '/v1/transactions', {
      shop_code: 'NP0001', shop_transaction_id: `${id}-7`, shop_order_date: '2026-11-23', billed_amount: 1100,
      customer: { customer_name: b.name, customer_name_kana: b.kana, zip_code: '1500001', address: b.address, tel: b.phone, email: b.email },
      goods: [{ goods_name: '緑茶 200g', goods_price: 1100, quantity: 1 }],
    });
    assert.equal(lost.status, 201, JSON.stringify(lost.json));
    assert.equal((await pay(id, b)).json.status, 'authorized');
    const r = await deliver(notification(lost.json, 'approved'));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.cancelled, true);
    assert.equal((await npTx(lost.json.np_transaction_id)).status, 'cancelled', 'it no longer holds the shopper\'s limit');
    assert.equal((await payment(id)).status, 'authorized', 'the payment is untouched');
    assert.equal((await npTx(`${id}-1`)).status, 'approved');
  });

  it('limit: a shopper may owe NP at most 54,000 yen unpaid; paying the invoice frees it', async () => {
    const b = buyer();
    const first = await npCheckout(30000, 2727);
    assert.equal((await pay(first, b)).json.status, 'authorized');
    // Exactly at the limit is allowed.
    const second = await npCheckout(24000, 2181);
    assert.equal((await pay(second, b)).json.status, 'authorized');
    const third = await npCheckout(1000, 90);
    const over = await pay(third, b);
    assert.equal(over.status, 422, over.text);
    assert.equal(over.json.error.code, 'np_limit_exceeded');
    // Another shopper is not affected.
    assert.equal((await pay(third, buyer())).json.status, 'authorized');

    const outstanding = async () => (await api(worker, 'GET', `/sandbox/np/shoppers?email=${encodeURIComponent(b.email)}&phone=${b.phone}`)).json;
    assert.deepEqual(await outstanding(), { outstanding: 54000, limit: 54000, available: 0 });
    // Shipped but not paid still counts; the invoice comes after the shipment.
    assert.equal((await api(worker, 'POST', `/sandbox/np/transactions/${first}-1/invoice/paid`)).status, 409);
    assert.equal((await signedApi(worker, 'POST', `/v1/payments/${first}/shipment`)).json.status, 'paid');
    const fourth = await npCheckout(1000, 90);
    assert.equal((await pay(fourth, b)).json.error.code, 'np_limit_exceeded');
    // The shopper pays NP's invoice: usable again.
    const paid = await api(worker, 'POST', `/sandbox/np/transactions/${first}-1/invoice/paid`);
    assert.equal(paid.status, 200, paid.text);
    assert.equal((await outstanding()).outstanding, 24000);
    assert.equal((await pay(fourth, b)).json.status, 'authorized');
  });

  it('cancel before the shipment report (authorized or held), not after; refunds after it, partly then fully', async () => {
    const a = await npCheckout();
    assert.equal((await pay(a, buyer())).json.status, 'authorized');
    assert.equal((await signedApi(worker, 'POST', `/v1/payments/${a}/refund`)).json.error.code, 'not_refundable');
    const cancelled = await signedApi(worker, 'POST', `/v1/payments/${a}/cancel`);
    assert.equal(cancelled.status, 200, cancelled.text);
    assert.equal(cancelled.json.status, 'cancelled');
    assert.equal((await npTx(`${a}-1`)).status, 'cancelled');

    const h = await held();
    assert.equal((await signedApi(worker, 'POST', `/v1/payments/${h.id}/cancel`)).json.status, 'cancelled');
    assert.equal((await npTx(`${h.id}-1`)).status, 'cancelled');

    const s = await npCheckout();
    assert.equal((await pay(s, buyer())).json.status, 'authorized');
    assert.equal((await signedApi(worker, 'POST', `/v1/payments/${s}/shipment`)).json.status, 'paid');
    const late = await signedApi(worker, 'POST', `/v1/payments/${s}/cancel`);
    assert.equal(late.status, 422);
    assert.equal(late.json.error.code, 'not_cancellable');
    assert.match(late.json.error.message, /before the shipment report/);
    assert.equal((await npTx(`${s}-1`)).status, 'shipped');

    const part = await signedApi(worker, 'POST', `/v1/payments/${s}/refund`, { amount: 300 });
    assert.equal(part.status, 200, part.text);
    assert.equal(part.json.status, 'partially_refunded');
    assert.equal((await npTx(`${s}-1`)).refunded_amount, 300);
    const tooMuch = await signedApi(worker, 'POST', `/v1/payments/${s}/refund`, { amount: 801 });
    assert.equal(tooMuch.status, 409);
    assert.equal(tooMuch.json.error.code, 'refund_not_allowed');
    const rest = await signedApi(worker, 'POST', `/v1/payments/${s}/refund`);
    assert.equal(rest.json.status, 'refunded');
    const tx = await npTx(`${s}-1`);
    assert.equal(tx.refunded_amount, 1100);
    assert.equal(tx.outstanding, 0);
    await eventually(() => eventsOf(s).length >= 4, { what: 'refund webhooks' });
    assert.deepEqual(eventsOf(s), ['payment.authorized', 'payment.settled', 'payment.partially_refunded', 'payment.refunded']);
  });

  it('a merchant NG on the result notification cancels the NP transaction', async () => {
    merchant.answer = 'NG,out of stock';
    const id = await npCheckout();
    const r = await pay(id, buyer());
    assert.equal(r.json.status, 'rejected_by_merchant');
    assert.equal((await npTx(`${id}-1`)).status, 'cancelled');
  });

  it('a bad buyer form is answered 422 with every wrong field, and nothing is stored or sent to NP', async () => {
    const id = await npCheckout();
    const r = await pay(id, { name: '山田 太郎', kana: 'やまだ たろう', postal_code: '150', address: '', phone: '12345', email: 'taro' });
    assert.equal(r.status, 422, r.text);
    assert.equal(r.json.error.code, 'invalid_buyer');
    assert.equal(r.json.next, null);
    assert.deepEqual(r.json.error.fields, [
      { field: 'kana', code: 'katakana' },
      { field: 'postal_code', code: 'seven_digits' },
      { field: 'address', code: 'required' },
      { field: 'phone', code: 'phone_digits' },
      { field: 'email', code: 'email' },
    ]);
    const p = await payment(id);
    assert.equal(p.status, 'pending');
    assert.equal(p.method, null);
    assert.equal(p.instrument, null);
    assert.equal(p.history.length, 1);
    assert.equal((await api(worker, 'GET', `/sandbox/np/transactions/${id}-1`)).status, 404, 'NP was not asked');
  });

  it('NP is offered up to 54,000 yen only', async () => {
    const ok = await npCheckout(54000, 4909);
    assert.deepEqual((await api(worker, 'GET', `/pay/${ok}/session`)).json.methods.map((m) => m.method), ['np']);
    const only = await postPurchase(worker, purchase(merchant, { pay_method: 'np', amount: '54001', tax: '4909' }));
    assert.equal(only.status, 422);
    assert.match(await only.text(), /no_method_available/);
    const any = await openCheckout(worker, purchase(merchant, { pay_method: '', amount: '54001', tax: '4909' }));
    const methods = (await api(worker, 'GET', `/pay/${any}/session`)).json.methods.map((m) => m.method);
    assert.ok(!methods.includes('np'), `offered: ${methods}`);
    assert.ok(methods.includes('netcash'));
  });

  it('the shipment report is for NP payments only', async () => {
    const id = await openCheckout(worker, purchase(merchant, { pay_method: 'netcash' }));
    const r = await signedApi(worker, 'POST', `/v1/payments/${id}/shipment`);
    assert.equal(r.status, 422);
    assert.equal(r.json.error.code, 'not_np');
  });
});
