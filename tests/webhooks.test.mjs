// Notifications that are never lost (PRODUCT §5, issue 5): every state
// change becomes an event, delivered signed per Standard Webhooks (checked
// here with the public `standardwebhooks` library), in order per payment,
// retried for more than three days with the same webhook-id, logged, and
// re-sendable. Time is moved with the sandbox clock.

import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { advanceClock, api, eventually, openCheckout, purchase, signedApi, startMerchant, startWorker } from './lib/harness.mjs';

let worker;
let merchant;

async function useWebhookUrl() {
  const r = await signedApi(worker, 'PUT', '/v1/merchant', { webhook_url: `${merchant.base}/webhooks` });
  assert.equal(r.status, 200, r.text);
}

before(async () => {
  merchant = await startMerchant();
  worker = await startWorker({ vars: { WEBHOOK_TIMEOUT_MS: '1000' } });
  await useWebhookUrl();
});
after(async () => {
  await worker?.stop();
  await merchant?.close();
});
beforeEach(() => merchant.reset());

let idSeq = 0;
const freshId = () => `WH${String(Date.now() % 1e8).padStart(8, '0')}${String(++idSeq).padStart(2, '0')}ABCD`;

/** A paid NET CASH payment whose merchant answered NG: events paid, refund_required. */
async function paidThenRefundRequired() {
  merchant.answer = 'NG,changed my mind';
  const pay = await openCheckout(worker, purchase(merchant));
  const r = await api(worker, 'POST', `/pay/${pay}/netcash`, { netcash_id: freshId() });
  assert.equal(r.json.status, 'refund_required');
  merchant.answer = 'OK,';
  return pay;
}

async function events(pay) {
  const r = await signedApi(worker, 'GET', `/v1/payments/${pay}/events`);
  assert.equal(r.status, 200, r.text);
  return r.json.data;
}

describe('webhooks', () => {
  it('a paid payment is delivered, verified by standardwebhooks, and logged with the same id', async () => {
    const pay = await openCheckout(worker, purchase(merchant));
    assert.equal((await api(worker, 'POST', `/pay/${pay}/netcash`, { netcash_id: freshId() })).json.status, 'paid');
    const got = await eventually(() => merchant.accepted().find((w) => w.payload?.data?.tracking_id === pay), { what: 'payment.paid webhook' });
    assert.equal(got.payload.type, 'payment.paid');
    assert.equal(got.payload.id, got.id);
    assert.equal(got.payload.data.amount, 1100);
    const log = await events(pay);
    const paid = log.find((e) => e.type === 'payment.paid');
    assert.equal(paid.id, got.id);
    await eventually(async () => (await events(pay)).find((e) => e.type === 'payment.paid').state === 'delivered', { what: 'log says delivered' });
    const delivered = (await events(pay)).find((e) => e.type === 'payment.paid');
    assert.equal(delivered.attempts.at(-1).status, 200);
    assert.equal(delivered.attempts.at(-1).excerpt, 'thanks');
    // The result notification is in the same log.
    const result = log.find((e) => e.type === 'payment.result');
    assert.equal(result.state, 'delivered');
    assert.equal(result.attempts[0].url, `${merchant.base}/notify`);
  });

  it('a checkout nobody opens expires on time and the merchant hears of it (the sweep wakes its payment)', async () => {
    const pay = await openCheckout(worker, purchase(merchant, { limit_second: '60' }));
    await advanceClock(worker, 61);
    const got = await eventually(() => merchant.accepted().find((w) => w.payload?.data?.tracking_id === pay), { what: 'payment.expired' });
    assert.equal(got.payload.type, 'payment.expired');
    assert.equal(got.payload.data.status, 'expired');
  });

  it('the merchant down for three simulated days, then up: every event arrives once, in order, same ids', async () => {
    merchant.webhookStatus = 503;
    const a = await paidThenRefundRequired();
    const b = await openCheckout(worker, purchase(merchant));
    assert.equal((await api(worker, 'POST', `/pay/${b}/cancel`, {})).json.status, 'cancelled');
    await eventually(() => merchant.webhooks.length >= 2, { what: 'first failing attempts' });

    // Three days of failures, an hour at a time.
    for (let h = 0; h < 72; h++) await advanceClock(worker, 3600);
    assert.equal(merchant.accepted().length, 0);
    const failing = (await events(a)).find((e) => e.type === 'payment.paid');
    assert.equal(failing.state, 'pending');
    assert.ok(failing.attempts.length >= 8, `attempts so far: ${failing.attempts.length}`);
    assert.ok(failing.attempts.every((t) => t.status === 503));
    const triedIds = new Set(merchant.webhooks.filter((w) => w.payload?.data?.tracking_id === a && w.payload.type === 'payment.paid').map((w) => w.id));
    assert.deepEqual([...triedIds], [failing.id], 'webhook-id is the same on every retry');

    merchant.webhookStatus = 200;
    for (let h = 0; h < 30 && merchant.accepted().length < 3; h++) await advanceClock(worker, 3600);
    await eventually(() => merchant.accepted().length >= 3, { what: 'all three events' });
    const accepted = merchant.accepted();
    const ids = accepted.map((w) => w.id);
    assert.equal(new Set(ids).size, ids.length, 'each event arrives once');
    const ofA = accepted.filter((w) => w.payload.data.tracking_id === a).map((w) => w.payload.type);
    assert.deepEqual(ofA, ['payment.paid', 'payment.refund_required'], 'in order per payment');
    const logA = (await events(a)).filter((e) => e.type !== 'payment.result');
    assert.deepEqual(accepted.filter((w) => w.payload.data.tracking_id === a).map((w) => w.id), logA.map((e) => e.id));
    assert.ok(logA.every((e) => e.state === 'delivered'));
    assert.deepEqual(accepted.filter((w) => w.payload.data.tracking_id === b).map((w) => w.payload.type), ['payment.cancelled']);
  });

  it('an endpoint failing for days is paused with a notice and its events wait (never given up); setting it again delivers them in order', async () => {
    merchant.webhookStatus = 500;
    const pay = await openCheckout(worker, purchase(merchant));
    await api(worker, 'POST', `/pay/${pay}/cancel`, {});
    await eventually(() => merchant.webhooks.some((w) => w.payload?.data?.tracking_id === pay), { what: 'first attempt' });
    for (let h = 0; h < 100; h++) await advanceClock(worker, 3600);
    const [ev] = await events(pay).then((l) => l.filter((e) => e.type === 'payment.cancelled'));
    assert.equal(ev.state, 'waiting');
    assert.equal(ev.attempts.length, 11);
    const m = await signedApi(worker, 'GET', '/v1/merchant');
    assert.ok(m.json.webhook_disabled_at > 0);
    assert.match(m.json.webhook_notice, /three days/);

    // While paused, new events are logged but not sent.
    const other = await openCheckout(worker, purchase(merchant));
    await api(worker, 'POST', `/pay/${other}/cancel`, {});
    await eventually(async () => (await events(other)).find((e) => e.type === 'payment.cancelled').state === 'waiting', { what: 'waiting' });
    const before = merchant.webhooks.length;
    await advanceClock(worker, 3600);
    assert.equal(merchant.webhooks.length, before);

    merchant.webhookStatus = 200;
    await useWebhookUrl();
    assert.equal((await signedApi(worker, 'GET', '/v1/merchant')).json.webhook_disabled_at, null);
    // Nothing was lost: both waiting events arrive without anyone re-sending.
    await eventually(() => merchant.accepted().some((w) => w.id === ev.id), { what: 'the paused event delivered' });
    await eventually(async () => (await events(other)).find((e) => e.type === 'payment.cancelled').state === 'delivered', { what: 'the event logged while paused' });
    const resent = await signedApi(worker, 'POST', `/v1/payments/${pay}/events/${ev.id}/resend`);
    assert.equal(resent.status, 200, resent.text);
    assert.equal(resent.json.delivered, true);
    const got = merchant.accepted().find((w) => w.id === ev.id);
    assert.ok(got, 'the re-sent event arrived with its original id');
    const after = (await events(pay)).find((e) => e.id === ev.id);
    assert.equal(after.state, 'delivered');
    assert.equal(after.attempts.at(-1).manual, true);
  });

  it('stopping the Worker in the middle of deliveries loses nothing', async () => {
    merchant.webhookStatus = 503;
    const pay = await paidThenRefundRequired();
    await eventually(() => merchant.webhooks.some((w) => w.payload?.data?.tracking_id === pay), { what: 'an attempt' });
    const stateDir = worker.stateDir;
    await worker.stop();
    worker = await startWorker({ stateDir, vars: { WEBHOOK_TIMEOUT_MS: '1000' } });
    merchant.webhookStatus = 200;
    for (let h = 0; h < 5 && merchant.accepted().filter((w) => w.payload.data.tracking_id === pay).length < 2; h++) {
      await advanceClock(worker, 3600);
    }
    const got = await eventually(() => {
      const l = merchant.accepted().filter((w) => w.payload.data.tracking_id === pay);
      return l.length >= 2 && l;
    }, { what: 'both events after the restart' });
    assert.deepEqual(got.map((w) => w.payload.type), ['payment.paid', 'payment.refund_required']);
  });
});
