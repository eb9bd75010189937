// Card payments with Japanese Payment Options (PRODUCT §2 "Card + JPO", §9
// test cards) over HTTP against the real Worker and its CyberSource
// sandbox: automatic and specified sales, partial settle, partial and full
// refunds, voids, declines, JPO codes as CyberSource's SDKs spell them,
// refusals before the provider is asked, the sandbox's HTTP Signature
// checks (signed here independently, from PRODUCT §2), and card data kept
// out of storage and logs.

import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { advanceClock, api, openCheckout, purchase, signedApi, startMerchant, startWorker } from './lib/harness.mjs';

const CARDS = {
  visaJapan: '4111111111111111',
  visaAbroad: '4242424242424242',
  mastercard: '5555555555554444',
  declined: '4000000000000002',
};
// The sandbox credentials (edge-worker/wrangler.toml, README).
const CS = {
  merchantId: 'kessai_link_sandbox',
  keyId: '4f8a2c1e-7b3d-4e5f-9a6b-0c1d2e3f4a5b',
  secret: 'a2Vzc2FpLWxpbmstY3liZXJzb3VyY2Utc2FuZGJveCE=',
};

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

const card = (number, option = { kind: 'single' }, extra = {}) => ({
  number: number.replace(/(\d{4})(?=\d)/g, '$1 '),
  exp_month: '12',
  exp_year: '2030',
  cvc: '123',
  option,
  ...extra,
});
const checkout = (overrides = {}) => openCheckout(worker, purchase(merchant, { pay_method: 'card', ...overrides }));
const pay = (id, body) => api(worker, 'POST', `/pay/${id}/card`, body);
/** What the sandbox received for our attempt reference `{payment}-{n}`. */
const received = async (ref) => (await api(worker, 'GET', `/sandbox/cybersource/inspect/references/${ref}`)).json;
const view = async (id) => (await signedApi(worker, 'GET', `/v1/payments/${id}`)).json;

/** Every key and string value of a JSON value, at any depth. */
function strings(v, out = []) {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) v.forEach((x) => strings(x, out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) { out.push(k); strings(x, out); }
  return out;
}

describe('card payments (CyberSource, JPO)', () => {
  it('automatic sales: a Visa issued in Japan pays at once (authorized and captured), as JPO single', async () => {
    const id = await checkout();
    const s = await api(worker, 'GET', `/pay/${id}/session`);
    assert.deepEqual(s.json.methods.map((m) => m.method), ['card']);
    const r = await pay(id, card(CARDS.visaJapan));
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { status: 'paid', next: `/pay/${id}/return` });
    assert.equal(merchant.notifications[0].payload.data.method, 'card');
    assert.equal(merchant.notifications[0].payload.data.instrument, 'visa ****1111 12/2030');

    const p = await view(id);
    assert.equal(p.status, 'paid');
    assert.equal(p.captured, 1100);
    assert.equal(p.instrument, 'visa ****1111 12/2030');

    const seen = await received(`${id}-1`);
    assert.equal(seen.attempts.length, 1);
    assert.equal(seen.attempts[0].status, 'AUTHORIZED');
    assert.deepEqual(seen.attempts[0].processingInformation, { capture: true, japanPaymentOptions: { paymentMethod: '10' } });
    assert.deepEqual(seen.attempts[0].orderInformation, { amountDetails: { totalAmount: '1100', currency: 'JPY' } });
    assert.deepEqual(seen.attempts[0].card, {
      brand: 'visa', last4: '1111', expirationMonth: '12', expirationYear: '2030', issuedInJapan: true, cvnSent: true,
    });
    assert.equal(seen.payments[0].captured, 1100);
  });

  it('specified sales: authorized, then settled in part (signed API), refunded in part, then in full', async () => {
    const id = await checkout({ sales_mode: 'specified' });
    const r = await pay(id, card(CARDS.visaJapan, { kind: 'installment', count: 3 }));
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { status: 'authorized', next: `/pay/${id}/return` });
    const seen = await received(`${id}-1`);
    assert.equal(seen.attempts[0].processingInformation.capture, false);
    const csId = seen.payments[0].id;
    const sandbox = async () => (await api(worker, 'GET', `/sandbox/cybersource/inspect/payments/${csId}`)).json;
    assert.equal((await sandbox()).captured, 0);

    const tooMuch = await signedApi(worker, 'POST', `/v1/payments/${id}/settle`, { amount: 1101 });
    assert.equal(tooMuch.status, 409, tooMuch.text);
    assert.equal(tooMuch.json.error.code, 'settle_not_allowed');
    assert.equal((await sandbox()).captured, 0, 'a refused settle reaches no provider');

    const settled = await signedApi(worker, 'POST', `/v1/payments/${id}/settle`, { amount: 800 });
    assert.equal(settled.status, 200, settled.text);
    assert.equal(settled.json.status, 'paid');
    assert.equal(settled.json.captured, 800);
    assert.equal((await sandbox()).captured, 800);
    assert.equal((await sandbox()).captures.length, 1);

    const again = await signedApi(worker, 'POST', `/v1/payments/${id}/settle`, { amount: 100 });
    assert.equal(again.status, 409);
    const cancel = await signedApi(worker, 'POST', `/v1/payments/${id}/cancel`);
    assert.equal(cancel.status, 409, 'a captured payment is refunded, not voided');

    const part = await signedApi(worker, 'POST', `/v1/payments/${id}/refund`, { amount: 300 });
    assert.equal(part.status, 200, part.text);
    assert.equal(part.json.status, 'partially_refunded');
    assert.equal(part.json.refunded, 300);
    assert.equal((await sandbox()).refunded, 300);
    const over = await signedApi(worker, 'POST', `/v1/payments/${id}/refund`, { amount: 501 });
    assert.equal(over.status, 409);
    assert.equal(over.json.error.code, 'refund_not_allowed');
    const rest = await signedApi(worker, 'POST', `/v1/payments/${id}/refund`, {});
    assert.equal(rest.status, 200, rest.text);
    assert.equal(rest.json.status, 'refunded');
    assert.equal(rest.json.refunded, 800);
    const s = await sandbox();
    assert.equal(s.refunded, 800);
    assert.deepEqual(s.refunds.map((x) => x.amount), [300, 500]);
  });

  it('an authorization is cancelled through the API by an authorization reversal, as CyberSource cancels one; then it can be neither settled nor cancelled again', async () => {
    const id = await checkout({ sales_mode: 'specified' });
    assert.equal((await pay(id, card(CARDS.visaJapan))).json.status, 'authorized');
    const csId = (await received(`${id}-1`)).payments[0].id;
    const cancelled = await signedApi(worker, 'POST', `/v1/payments/${id}/cancel`);
    assert.equal(cancelled.status, 200, cancelled.text);
    assert.equal(cancelled.json.status, 'cancelled');
    const s = (await api(worker, 'GET', `/sandbox/cybersource/inspect/payments/${csId}`)).json;
    assert.equal(s.status, 'REVERSED');
    assert.equal(s.reversals.length, 1);
    assert.equal(s.reversals[0].amount, 1100, 'the whole authorized amount is reversed');
    assert.equal(s.voids.length, 0, 'an authorization is not voided');
    assert.equal(s.authorized, 0);
    assert.equal((await signedApi(worker, 'POST', `/v1/payments/${id}/settle`)).status, 409);
    assert.equal((await signedApi(worker, 'POST', `/v1/payments/${id}/cancel`)).status, 409);
    assert.equal((await signedApi(worker, 'POST', `/v1/payments/${id}/refund`)).status, 409);
  });

  it('a card declined by its issuer is a 402 card_declined; the shopper may retry with another card', async () => {
    const id = await checkout();
    const r = await pay(id, card(CARDS.declined));
    assert.equal(r.status, 402, r.text);
    assert.equal(r.json.error.code, 'card_declined');
    assert.ok(r.json.error.message.length > 0);
    assert.equal(r.json.next, null);
    const s = await api(worker, 'GET', `/pay/${id}/session`);
    assert.equal(s.json.status, 'pending');
    assert.equal(s.json.last_error.code, 'card_declined');
    const ok = await pay(id, card(CARDS.visaJapan));
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json.status, 'paid');
    assert.equal((await received(`${id}-1`)).attempts[0].status, 'DECLINED');
    assert.equal((await received(`${id}-2`)).attempts[0].status, 'AUTHORIZED');
  });

  it('a Mastercard with a JPO option is refused (422 payment_option_unavailable) before CyberSource is asked; single pays without JPO', async () => {
    const id = await checkout();
    for (const option of [{ kind: 'installment', count: 3 }, { kind: 'bonus' }, { kind: 'revolving' }, { kind: 'bonus_installment', count: 6 }]) {
      const r = await pay(id, card(CARDS.mastercard, option));
      assert.equal(r.status, 422, r.text);
      assert.equal(r.json.error.code, 'payment_option_unavailable');
      assert.equal(r.json.next, null);
    }
    assert.equal((await received(`${id}-1`)).attempts.length, 0, 'nothing reached CyberSource');
    const ok = await pay(id, card(CARDS.mastercard));
    assert.equal(ok.json.status, 'paid', ok.text);
    const seen = await received(`${id}-1`);
    assert.deepEqual(seen.attempts[0].processingInformation, { capture: true });
    assert.equal(seen.attempts[0].card.brand, 'mastercard');
    assert.equal((await view(id)).instrument, 'mastercard ****4444 12/2030');
  });

  it('JPO single with a Visa issued abroad is refused clearly by CyberSource; the lump sum then goes through as an ordinary payment', async () => {
    const id = await checkout();
    const r = await pay(id, card(CARDS.visaAbroad));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.status, 'paid');
    const seen = await received(`${id}-1`);
    assert.equal(seen.attempts.length, 2);
    const [jpo, plain] = seen.attempts;
    assert.equal(jpo.httpStatus, 400);
    assert.equal(jpo.status, 'INVALID_REQUEST');
    assert.deepEqual(jpo.processingInformation.japanPaymentOptions, { paymentMethod: '10' });
    assert.match(jpo.message, /single payment .* requires a Visa card issued in Japan/);
    assert.equal(plain.status, 'AUTHORIZED');
    assert.deepEqual(plain.processingInformation, { capture: true });

    // JPO options other than single need only a Visa.
    const id2 = await checkout();
    const r2 = await pay(id2, card(CARDS.visaAbroad, { kind: 'installment', count: 5 }));
    assert.equal(r2.json.status, 'paid', r2.text);
    const seen2 = await received(`${id2}-1`);
    assert.equal(seen2.attempts.length, 1);
    assert.deepEqual(seen2.attempts[0].processingInformation.japanPaymentOptions, { paymentMethod: '61', installments: '5' });
  });

  it('every payment option reaches CyberSource with the SDK documentation codes', async () => {
    const table = [
      [{ kind: 'single' }, { paymentMethod: '10' }],
      [{ kind: 'bonus' }, { paymentMethod: '21' }],
      [{ kind: 'installment', count: 3 }, { paymentMethod: '61', installments: '3' }],
      [{ kind: 'installment', count: 24 }, { paymentMethod: '61', installments: '24' }],
      [{ kind: 'revolving' }, { paymentMethod: '80' }],
      [{ kind: 'bonus_installment', count: 6 }, { paymentMethod: '31', installments: '6' }],
    ];
    for (const [option, jpo] of table) {
      const id = await checkout({ sales_mode: 'specified' });
      const r = await pay(id, card(CARDS.visaJapan, option));
      assert.equal(r.status, 200, `${JSON.stringify(option)}: ${r.text}`);
      assert.equal(r.json.status, 'authorized');
      const seen = await received(`${id}-1`);
      assert.deepEqual(seen.attempts[0].processingInformation, { capture: false, japanPaymentOptions: jpo }, JSON.stringify(option));
    }
  });

  it('refusals before CyberSource is asked: card number, expiry, CVC, option', async () => {
    const id = await checkout();
    const now = new Date(Date.now() + 9 * 3600 * 1000);
    const lastMonth = now.getUTCMonth() === 0 ? [12, now.getUTCFullYear() - 1] : [now.getUTCMonth(), now.getUTCFullYear()];
    const table = [
      [card('4111111111111112'), 'invalid_card_number'],
      [card('4111'), 'invalid_card_number'],
      [card('4111-1111-1111-111x'), 'invalid_card_number'],
      [card('6011111111111117'), 'invalid_card_number'],
      [{ ...card(CARDS.visaJapan), number: undefined }, 'invalid_card_number'],
      [card(CARDS.visaJapan, undefined, { exp_month: '13' }), 'invalid_expiry'],
      [card(CARDS.visaJapan, undefined, { exp_year: '203' }), 'invalid_expiry'],
      [card(CARDS.visaJapan, undefined, { exp_month: String(lastMonth[0]), exp_year: String(lastMonth[1]) }), 'card_expired'],
      [card(CARDS.visaJapan, undefined, { cvc: '12' }), 'invalid_cvc'],
      [card(CARDS.visaJapan, undefined, { cvc: '' }), 'invalid_cvc'],
      [card(CARDS.visaJapan, { kind: 'installment', count: 4 }), 'invalid_payment_option'],
      [card(CARDS.visaJapan, { kind: 'instalment', count: 3 }), 'invalid_payment_option'],
      [card(CARDS.mastercard, { kind: 'installment', count: 3 }), 'payment_option_unavailable'],
    ];
    for (const [body, code] of table) {
      const r = await pay(id, body);
      assert.equal(r.status, 422, `${code}: ${r.text}`);
      assert.equal(r.json.error.code, code, JSON.stringify(body));
      assert.equal(r.json.next, null);
    }
    assert.equal((await received(`${id}-1`)).attempts.length, 0, 'nothing reached CyberSource');
    const s = await api(worker, 'GET', `/pay/${id}/session`);
    assert.equal(s.json.status, 'pending', 'input refusals change nothing');
    // Expiry as numbers, a 2-digit year, and the current month are fine.
    const thisMonth = [now.getUTCMonth() + 1, now.getUTCFullYear()];
    const ok = await pay(id, card(CARDS.visaJapan, { kind: 'single' }, { exp_month: thisMonth[0], exp_year: thisMonth[1] % 100 }));
    assert.equal(ok.status, 200, ok.text);
    assert.equal((await view(id)).instrument, `visa ****1111 ${String(thisMonth[0]).padStart(2, '0')}/${thisMonth[1]}`);
  });

  it('a merchant NG rolls card payments back: a capture is refunded, an authorization reversed', async () => {
    merchant.answer = 'NG,out of stock';
    const auto = await checkout();
    const r = await pay(auto, card(CARDS.visaJapan));
    assert.equal(r.json.status, 'rejected_by_merchant', r.text);
    const a = (await received(`${auto}-1`)).payments[0];
    assert.equal(a.captured, 1100);
    assert.equal(a.refunded, 1100, 'the sale was refunded');

    const specified = await checkout({ sales_mode: 'specified' });
    const r2 = await pay(specified, card(CARDS.visaJapan));
    assert.equal(r2.json.status, 'rejected_by_merchant', r2.text);
    const b = (await received(`${specified}-1`)).payments[0];
    assert.equal(b.status, 'REVERSED', 'the authorization was reversed');
    assert.equal(b.captured, 0);
  });

  it('the sandbox verifies HTTP Signatures as CyberSource does (refusal table)', async () => {
    const path = '/pts/v2/payments';
    const host = `127.0.0.1:${worker.port}`;
    const body = (ref) => JSON.stringify({
      clientReferenceInformation: { code: ref },
      processingInformation: { capture: false },
      paymentInformation: { card: { number: CARDS.visaJapan, expirationMonth: '12', expirationYear: '2030', securityCode: '123' } },
      orderInformation: { amountDetails: { totalAmount: '500', currency: 'JPY' } },
    });
    const sign = (b, o = {}) => {
      const signedHost = o.host ?? host;
      const date = o.date ?? new Date().toUTCString();
      const merchantId = o.merchantId ?? CS.merchantId;
      const list = o.headers ?? 'host date request-target digest v-c-merchant-id';
      const digest = 'SHA-256=' + createHash('sha256').update(o.digestOf ?? b).digest('base64');
      const values = {
        host: signedHost, date, 'request-target': `post ${o.path ?? path}`, '(request-target)': `post ${o.path ?? path}`,
        digest, 'v-c-merchant-id': merchantId,
      };
      const lines = list.split(' ').map((h) => `${h}: ${values[h]}`).join('\n');
      const sig = createHmac('sha256', Buffer.from(o.secret ?? CS.secret, 'base64')).update(lines).digest('base64');
      const h = {
        'content-type': 'application/json', 'v-c-merchant-id': merchantId, date, digest,
        signature: `keyid="${o.keyId ?? CS.keyId}", algorithm="${o.algorithm ?? 'HmacSHA256'}", headers="${list}", signature="${sig}"`,
      };
      if (o.drop) delete h[o.drop];
      return h;
    };
    const send = (b, headers) => fetch(`${worker.base}/sandbox/cybersource${path}`, { method: 'POST', headers, body: b })
      .then(async (r) => ({ status: r.status, json: await r.json() }));

    const goodRef = `sig-ok-${Date.now()}`;
    const good = await send(body(goodRef), sign(body(goodRef)));
    assert.equal(good.status, 201, JSON.stringify(good.json));
    assert.equal(good.json.status, 'AUTHORIZED');

    const sixMinutesAgo = new Date(Date.now() - 360_000).toUTCString();
    const table = [
      ['no Signature header', { drop: 'signature' }, 'missing_signature'],
      ['HmacSHA1', { algorithm: 'HmacSHA1' }, 'unsupported_algorithm'],
      ['unknown key id', { keyId: '00000000-0000-0000-0000-000000000000' }, 'unknown_key_id'],
      ['unknown merchant', { merchantId: 'someone_else' }, 'unknown_merchant_id'],
      ['no v-c-merchant-id', { drop: 'v-c-merchant-id' }, 'unknown_merchant_id'],
      ['old (request-target) spelling', { headers: 'host date (request-target) digest v-c-merchant-id' }, 'old_request_target_spelling'],
      ['digest not signed', { headers: 'host date request-target v-c-merchant-id' }, 'header_not_signed'],
      ['no Digest header', { drop: 'digest' }, 'missing_header'],
      ['Digest of another body', { digestOf: '{}' }, 'digest_mismatch'],
      ['Date six minutes old', { date: sixMinutesAgo }, 'stale_date'],
      ['Date not RFC 1123', { date: new Date().toISOString() }, 'bad_date'],
      ['another secret', { secret: Buffer.from('not-the-sandbox-shared-secret!!!').toString('base64') }, 'signature_mismatch'],
      ['signed for another host', { host: 'apitest.cybersource.com' }, 'signature_mismatch'],
      ['signed for another path', { path: '/pts/v2/payments/1/refunds' }, 'signature_mismatch'],
    ];
    for (const [what, o, code] of table) {
      const ref = `sig-${code}-${Date.now()}`;
      const r = await send(body(ref), sign(body(ref), o));
      assert.equal(r.status, 401, `${what}: ${JSON.stringify(r.json)}`);
      assert.equal(r.json.response.rmsg, 'Authentication Failed', what);
      assert.equal(r.json.reason, code, `${what}: ${JSON.stringify(r.json)}`);
      assert.equal((await received(ref)).attempts.length, 0, `${what}: nothing was processed`);
    }
    // A body changed after signing.
    const ref = `sig-changed-${Date.now()}`;
    const r = await send(body(ref).replace('"500"', '"5"'), sign(body(ref)));
    assert.equal(r.status, 401);
    assert.equal(r.json.reason, 'digest_mismatch');
  });

  /** A request to the CyberSource sandbox, HTTP-Signature-signed from PRODUCT §2. */
  async function cs(method, path, body) {
    const raw = body === undefined ? '' : JSON.stringify(body);
    const date = new Date().toUTCString();
    const values = { host: `127.0.0.1:${worker.port}`, date, 'request-target': `${method.toLowerCase()} ${path}`, 'v-c-merchant-id': CS.merchantId };
    const headers = { 'v-c-merchant-id': CS.merchantId, date };
    let list = 'host date request-target v-c-merchant-id';
    if (method === 'POST') {
      values.digest = headers.digest = 'SHA-256=' + createHash('sha256').update(raw).digest('base64');
      headers['content-type'] = 'application/json';
      list = 'host date request-target digest v-c-merchant-id';
    }
    const sig = createHmac('sha256', Buffer.from(CS.secret, 'base64')).update(list.split(' ').map((h) => `${h}: ${values[h]}`).join('\n')).digest('base64');
    headers.signature = `keyid="${CS.keyId}", algorithm="HmacSHA256", headers="${list}", signature="${sig}"`;
    const r = await fetch(`${worker.base}/sandbox/cybersource${path}`, { method, headers, body: raw || undefined });
    return { status: r.status, json: await r.json() };
  }

  it('our authorizations and captures carry a clientReferenceInformation.transactionId derived from their key; the transaction retrieval API reads them', async () => {
    const id = await checkout({ sales_mode: 'specified' });
    assert.equal((await pay(id, card(CARDS.visaJapan))).json.status, 'authorized');
    const [p] = (await received(`${id}-1`)).payments;
    assert.match(p.transactionId, /^\d{20}$/);
    assert.equal((await signedApi(worker, 'POST', `/v1/payments/${id}/settle`, { amount: 700 })).status, 200);
    const s = (await api(worker, 'GET', `/sandbox/cybersource/inspect/payments/${p.id}`)).json;
    assert.match(s.captures[0].transactionId, /^\d{20}$/);
    assert.notEqual(s.captures[0].transactionId, p.transactionId);

    const t = await cs('GET', `/tss/v2/transactions/${p.id}`);
    assert.equal(t.status, 200, JSON.stringify(t.json));
    assert.equal(t.json.id, p.id);
    assert.equal(t.json.clientReferenceInformation.transactionId, p.transactionId);
    assert.equal(t.json.applicationInformation.status, 'AUTHORIZED');
    assert.equal(t.json.applicationInformation.applications[0].name, 'ics_auth');
    assert.equal(t.json.orderInformation.amountDetails.authorizedAmount, '1100');
    assert.deepEqual(t.json._links.relatedTransactions.map((l) => l.href), [`/tss/v2/transactions/${s.captures[0].id}`]);
    const c = await cs('GET', `/tss/v2/transactions/${s.captures[0].id}`);
    assert.equal(c.json.applicationInformation.applications[0].name, 'ics_bill');
    assert.equal(c.json.orderInformation.amountDetails.totalAmount, '700');
    const none = await cs('GET', '/tss/v2/transactions/7000000000000000000000');
    assert.equal(none.status, 404);
    assert.equal(none.json.status, 'NOT_FOUND');
    const unsigned = await fetch(`${worker.base}/sandbox/cybersource/tss/v2/transactions/${p.id}`);
    assert.equal(unsigned.status, 401, 'the retrieval API is signed like the rest');
  });

  it('the sandbox refuses what CyberSource refuses: a void of an authorization, a reversal of a captured payment, a second reversal', async () => {
    const auth = await cs('POST', '/pts/v2/payments', {
      clientReferenceInformation: { code: `rules-${Date.now()}` },
      processingInformation: { capture: false },
      paymentInformation: { card: { number: CARDS.visaJapan, expirationMonth: '12', expirationYear: '2030', securityCode: '123' } },
      orderInformation: { amountDetails: { totalAmount: '1000', currency: 'JPY' } },
    });
    assert.equal(auth.json.status, 'AUTHORIZED');
    const id = auth.json.id;
    const voided = await cs('POST', `/pts/v2/payments/${id}/voids`, { clientReferenceInformation: { code: 'v1' } });
    assert.equal(voided.status, 400);
    assert.equal(voided.json.status, 'INVALID_REQUEST');
    assert.match(voided.json.message, /revers/);
    const reversal = (code, amount = '1000') => cs('POST', `/pts/v2/payments/${id}/reversals`, {
      clientReferenceInformation: { code }, reversalInformation: { amountDetails: { totalAmount: amount }, reason: 'test' },
    });
    assert.equal((await reversal('r0', '1001')).json.reason, 'INVALID_AMOUNT', 'not more than authorized');
    const r = await reversal('r1');
    assert.equal(r.status, 201, JSON.stringify(r.json));
    assert.equal(r.json.status, 'REVERSED');
    assert.deepEqual(r.json.reversalAmountDetails, { currency: 'JPY', reversedAmount: '1000', originalTransactionAmount: '1000' });
    assert.deepEqual((await reversal('r1')).json.id, r.json.id, 'the same reference answers as the first time');
    assert.equal((await reversal('r2')).json.reason, 'AUTH_ALREADY_REVERSED');

    const sale = await cs('POST', '/pts/v2/payments', {
      clientReferenceInformation: { code: `rules-sale-${Date.now()}` },
      processingInformation: { capture: true },
      paymentInformation: { card: { number: CARDS.visaJapan, expirationMonth: '12', expirationYear: '2030', securityCode: '123' } },
      orderInformation: { amountDetails: { totalAmount: '1000', currency: 'JPY' } },
    });
    const captured = await cs('POST', `/pts/v2/payments/${sale.json.id}/reversals`, {
      clientReferenceInformation: { code: 'r3' }, reversalInformation: { amountDetails: { totalAmount: '1000' }, reason: 'test' },
    });
    assert.equal(captured.status, 400);
    assert.match(captured.json.message, /captured/);
    const v = await cs('POST', `/pts/v2/payments/${sale.json.id}/voids`, { clientReferenceInformation: { code: 'v2' } });
    assert.equal(v.status, 201, 'a sale not settled is voided');
    assert.equal(v.json.status, 'VOIDED');
    assert.equal((await api(worker, 'GET', `/sandbox/cybersource/inspect/payments/${sale.json.id}`)).json.captured, 0);
  });

  it('card numbers and CVCs are never stored or logged: API view, sandbox records, raw local storage, Worker log', async () => {
    const id = await checkout({ sales_mode: 'specified' });
    assert.equal((await pay(id, card(CARDS.visaJapan, { kind: 'revolving' }, { cvc: '7319' }))).json.status, 'authorized');
    await signedApi(worker, 'POST', `/v1/payments/${id}/settle`, { amount: 600 });

    const p = await view(id);
    const texts = strings(p);
    assert.equal(p.instrument, 'visa ****1111 12/2030');
    for (const n of Object.values(CARDS)) assert.ok(!JSON.stringify(p).includes(n), `card number ${n} in the payment`);
    assert.ok(!texts.includes('7319'), 'the CVC is not a value of the payment');
    for (const k of ['number', 'cvc', 'securityCode', 'card_number']) assert.ok(!texts.includes(k), `no ${k} key`);
    const seen = await received(`${id}-1`);
    assert.ok(!JSON.stringify(seen).includes(CARDS.visaJapan), 'the sandbox keeps only the last 4');
    assert.ok(!strings(seen).includes('7319'), 'nor the CVC');

    // Everything workerd keeps on disk for this run (Durable Objects, D1).
    const files = [];
    const walk = (d) => {
      for (const e of readdirSync(d)) {
        const f = join(d, e);
        if (statSync(f).isDirectory()) walk(f);
        else files.push(f);
      }
    };
    walk(worker.stateDir);
    const disk = Buffer.concat(files.map((f) => readFileSync(f)));
    assert.ok(disk.includes(Buffer.from('visa ****1111 12/2030')), 'control: the masked instrument is on disk');
    assert.ok(disk.includes(Buffer.from(id)), 'control: the payment is on disk');
    for (const n of Object.values(CARDS)) assert.ok(!disk.includes(Buffer.from(n)), `card number ${n} on disk`);
    assert.ok(!disk.includes(Buffer.from('securityCode')), 'no security code field on disk');
    const log = worker.log();
    for (const n of Object.values(CARDS)) assert.ok(!log.includes(n), `card number ${n} in the Worker log`);
  });

  it('expiry is checked against business time (JST month of the payment clock)', async () => {
    const now = new Date(Date.now() + 9 * 3600 * 1000);
    const thisMonth = { exp_month: String(now.getUTCMonth() + 1), exp_year: String(now.getUTCFullYear()) };
    const id = await checkout();
    assert.equal((await pay(id, card(CARDS.visaJapan, undefined, thisMonth))).json.status, 'paid', 'valid through the end of its month');

    // Purchase requests are fresh by real time; the payment runs on the
    // (sandbox) business clock, now 40 days later.
    await advanceClock(worker, 40 * 86400);
    const id2 = await checkout();
    const r = await pay(id2, card(CARDS.visaJapan, undefined, thisMonth));
    assert.equal(r.status, 422, r.text);
    assert.equal(r.json.error.code, 'card_expired');
  });
});
