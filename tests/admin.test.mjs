// The payment administration tool's server side (issue 11): staff users
// with roles, CSRF tokens, the TOTP second factor (codes computed with the
// public `otpauth` library), the audit log, payment search, detail with
// timeline and actions, the webhook log, settings, the streamed CSV export
// (UTF-8 with BOM, Shift_JIS), and one merchant never seeing another's.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as OTPAuth from 'otpauth';
import { advanceClock, api, eventually, openCheckout, orderId, purchase, signedApi, startMerchant, startWorker } from './lib/harness.mjs';

let worker;
let merchant;
before(async () => {
  worker = await startWorker();
  merchant = await startMerchant();
  assert.equal((await signedApi(worker, 'PUT', '/v1/merchant', { webhook_url: `${merchant.base}/webhooks` })).status, 200);
});
after(async () => {
  await worker?.stop();
  await merchant?.close();
});

const operator = async (method, path, body) => {
  const r = await fetch(`${worker.base}${path}`, {
    method,
    headers: { authorization: 'Bearer kessai-sandbox-operator', 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, json: await r.json().catch(() => null) };
};

/** A signed-in staff user: its cookie and CSRF token. */
class Staff {
  constructor(login) {
    this.cookie = login.cookie;
    this.csrf = login.json.csrf_token;
    this.info = login.json;
  }
  async call(method, path, body, headers = {}) {
    const res = await fetch(`${worker.base}/admin/api/${path}`, {
      method,
      headers: {
        'content-type': 'application/json', cookie: this.cookie, 'x-requested-with': 'kessai-admin', 'x-csrf-token': this.csrf,
        'cf-connecting-ip': '203.0.113.7', ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json = null;
    try { json = JSON.parse(text); } catch { /* not JSON */ }
    return { status: res.status, json, text, headers: res.headers };
  }
  get(path) { return this.call('GET', path); }
  post(path, body = {}, headers) { return this.call('POST', path, body, headers); }
}

async function rawLogin(body) {
  const res = await fetch(`${worker.base}/admin/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-requested-with': 'kessai-admin', 'cf-connecting-ip': '203.0.113.7' },
    body: JSON.stringify(body),
  });
  const setCookie = res.headers.get('set-cookie');
  return { status: res.status, json: await res.json().catch(() => null), cookie: setCookie?.split(';')[0], setCookie };
}

async function signIn(merchant_id, user_id, password, extra = {}) {
  const r = await rawLogin({ merchant_id, user_id, password, ...extra });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return new Staff(r);
}

/** Business time (the sandbox clock), in ms, for TOTP codes. */
async function businessNowMs() {
  return (await api(worker, 'GET', '/__sandbox/clock')).json.now * 1000;
}

const CARD = { number: '4111 1111 1111 1111', exp_month: '12', exp_year: '2030', cvc: '123', option: { kind: 'single' } };
let prepaidSeq = 0;
const freshPrepaid = () => `55${String(process.pid).padStart(6, '0').slice(-6)}${String(++prepaidSeq).padStart(7, '0')}1`;

async function paidPrepaid(overrides = {}) {
  const id = await openCheckout(worker, purchase(merchant, { pay_method: 'prepaid', ...overrides }));
  const r = await api(worker, 'POST', `/pay/${id}/prepaid`, { card_number: freshPrepaid() });
  assert.equal(r.json.status, 'paid', r.text);
  return id;
}

let admin; // the sandbox merchant's first user (administrator)
let viewer;
let op; // an operator
let passwords = {};

describe('staff users and roles', () => {
  it('the sandbox merchant signs in as its first user, admin (an administrator); administrators add users, shown their password once', async () => {
    admin = await signIn('99999', undefined, 'kessai-sandbox-admin');
    assert.equal(admin.info.user_id, 'admin');
    assert.equal(admin.info.role, 'administrator');
    assert.match(admin.csrf, /^[0-9a-f]{48}$/);
    for (const [user_id, role] of [['vera', 'viewer'], ['otto', 'operator']]) {
      const r = await admin.post('users', { user_id, role });
      assert.equal(r.status, 201, r.text);
      assert.equal(r.json.role, role);
      assert.match(r.json.password, /^[0-9a-f]{24}$/);
      passwords[user_id] = r.json.password;
    }
    assert.equal((await admin.post('users', { user_id: 'vera', role: 'viewer' })).json.error.code, 'user_exists');
    assert.equal((await admin.post('users', { user_id: 'x y', role: 'viewer' })).json.error.code, 'invalid_user_id');
    assert.equal((await admin.post('users', { user_id: 'z', role: 'root' })).json.error.code, 'invalid_role');
    const list = await admin.get('users');
    assert.deepEqual(list.json.data.map((u) => [u.user_id, u.role]).sort(), [['admin', 'administrator'], ['otto', 'operator'], ['vera', 'viewer']]);
    assert.ok(!list.text.includes('password'), 'no password or hash is listed');
    viewer = await signIn('99999', 'vera', passwords.vera);
    op = await signIn('99999', 'otto', passwords.otto);
    assert.equal(viewer.info.role, 'viewer');
  });

  it('an operator creates a merchant with its first user, admin, an administrator (password shown once)', async () => {
    const r = await operator('POST', '/operator/merchants', { merchant_id: '30001', name: 'Other Shop', allowed_origins: ['http://127.0.0.1'] });
    assert.equal(r.status, 201);
    assert.equal(r.json.admin_user, 'admin');
    const s = await signIn('30001', 'admin', r.json.admin_password);
    assert.equal(s.info.role, 'administrator');
    assert.equal((await rawLogin({ merchant_id: '30001', password: r.json.admin_password })).status, 200, 'user_id defaults to admin');
  });

  it('every endpoint checks the role: a viewer reads but changes nothing; an operator acts on payments but not on settings, users or the audit', async () => {
    const pay = await paidPrepaid();
    const forbidden = async (s, method, path, body) => {
      const r = await s.call(method, path, body);
      assert.equal(r.status, 403, `${s.info.user_id} ${method} ${path}: ${r.text}`);
      assert.equal(r.json.error.code, 'role_forbidden');
      assert.match(r.json.error.message, /your role \((viewer|operator)\) cannot/);
    };
    for (const path of ['me', 'payments', `payments/${pay}`, 'webhooks', 'settings', 'payments.csv']) {
      assert.equal((await viewer.get(path)).status, 200, path);
    }
    for (const a of ['refund', 'settle', 'cancel', 'shipment', 'netcash-refund']) await forbidden(viewer, 'POST', `payments/${pay}/${a}`, { amount: 100 });
    await forbidden(viewer, 'POST', 'webhooks/resend', { payment_id: pay, event_id: 'evt_x' });
    await forbidden(viewer, 'POST', 'webhooks/resend-failed', { from: '2026-01-01', to: '2026-01-02' });
    for (const s of [viewer, op]) {
      await forbidden(s, 'PUT', 'settings', { webhook_url: null });
      await forbidden(s, 'POST', 'settings/rotate', { what: 'hash_key' });
      await forbidden(s, 'GET', 'users');
      await forbidden(s, 'POST', 'users', { user_id: 'mallory', role: 'administrator' });
      await forbidden(s, 'PUT', 'users/vera', { role: 'administrator' });
      await forbidden(s, 'DELETE', 'users/admin');
      await forbidden(s, 'GET', 'audit');
      await forbidden(s, 'GET', 'audit.csv');
    }
    assert.equal((await viewer.get(`payments/${pay}`)).json.payment.refunded, 0, 'the viewer changed nothing');
    const r = await op.post(`payments/${pay}/refund`, { amount: 100 }, { 'idempotency-key': 'role-test-1' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.refunded, 100);
  });

  it('a change of role counts at once; the only administrator cannot be demoted or removed', async () => {
    assert.equal((await admin.call('PUT', 'users/admin', { role: 'viewer' })).json.error.code, 'last_administrator');
    assert.equal((await admin.call('DELETE', 'users/admin')).json.error.code, 'last_administrator');
    assert.equal((await admin.call('PUT', 'users/vera', { role: 'operator' })).status, 200);
    assert.equal((await viewer.post('webhooks/resend', { payment_id: 'pay_00000000000000000000000000', event_id: 'e' })).status, 404, 'now an operator: allowed (and nothing found)');
    assert.equal((await admin.call('PUT', 'users/vera', { role: 'viewer' })).status, 200);
    assert.equal((await viewer.post('webhooks/resend', { payment_id: 'pay_00000000000000000000000000', event_id: 'e' })).status, 403);
    assert.equal((await admin.call('PUT', 'users/nobody', { role: 'viewer' })).status, 404);
  });

  it('a removed user or a reset password ends that user\'s sessions', async () => {
    const r = await admin.post('users', { user_id: 'temp', role: 'operator' });
    const temp = await signIn('99999', 'temp', r.json.password);
    assert.equal((await temp.get('me')).status, 200);
    const reset = await admin.call('PUT', 'users/temp', { reset_password: true });
    assert.match(reset.json.password, /^[0-9a-f]{24}$/);
    assert.equal((await temp.get('me')).status, 401);
    assert.equal((await rawLogin({ merchant_id: '99999', user_id: 'temp', password: r.json.password })).status, 401, 'the old password is gone');
    const again = await signIn('99999', 'temp', reset.json.password);
    assert.equal((await admin.call('DELETE', 'users/temp')).status, 200);
    assert.equal((await again.get('me')).status, 401);
  });
});

describe('CSRF', () => {
  it('a change needs X-Requested-With and the session\'s own X-CSRF-Token, else 403 and nothing changes; the cookie is HttpOnly, SameSite=Strict', async () => {
    const login = await rawLogin({ merchant_id: '99999', user_id: 'otto', password: passwords.otto });
    assert.match(login.setCookie, /HttpOnly; SameSite=Strict/);
    const pay = await paidPrepaid();
    const other = await signIn('99999', 'vera', passwords.vera);
    for (const [headers, code] of [
      [{ 'x-csrf-token': '' }, 'csrf_token'],
      [{ 'x-csrf-token': other.csrf }, 'csrf_token'],
      [{ 'x-requested-with': '' }, 'csrf'],
    ]) {
      const r = await op.post(`payments/${pay}/refund`, { amount: 100 }, headers);
      assert.equal(r.status, 403, JSON.stringify(headers));
      assert.equal(r.json.error.code, code);
    }
    assert.equal((await op.get(`payments/${pay}`)).json.payment.refunded, 0);
    const me = await op.get('me');
    assert.equal(me.json.csrf_token, op.csrf, 'GET me gives the token again (after a reload)');
    const noHeader = await fetch(`${worker.base}/admin/api/login`, { method: 'POST', body: JSON.stringify({ merchant_id: '99999', password: 'kessai-sandbox-admin' }) });
    assert.equal(noHeader.status, 403, 'sign-in needs X-Requested-With too');
  });
});

describe('TOTP second factor', () => {
  let secret;
  let recovery;
  const totp = () => new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30 });
  const code = async (deltaSteps = 0) => totp().generate({ timestamp: (await businessNowMs()) + deltaSteps * 30_000 });

  it('enrolment: a secret (otpauth URI), confirmed with a code from it; ten recovery codes shown once', async () => {
    const r = await op.post('me/totp');
    assert.equal(r.status, 200);
    secret = r.json.secret;
    assert.match(secret, /^[A-Z2-7]{32}$/);
    assert.match(r.json.otpauth_uri, /^otpauth:\/\/totp\/Kessai%20Link:99999-001%3Aotto\?secret=[A-Z2-7]{32}&issuer=Kessai%20Link&algorithm=SHA1&digits=6&period=30$/);
    assert.equal((await op.post('me/totp/confirm', { code: '000000' === (await code()) ? '111111' : '000000' })).json.error.code, 'bad_second_factor');
    const ok = await op.post('me/totp/confirm', { code: await code() });
    assert.equal(ok.status, 200, ok.text);
    recovery = ok.json.recovery_codes;
    assert.equal(recovery.length, 10);
    assert.equal(new Set(recovery).size, 10);
    assert.equal((await op.get('me')).json.totp_enabled, true);
  });

  it('sign-in then needs the code: missing → second_factor_required; wrong → refused; ±1 step accepted; a used code is refused', async () => {
    const base = { merchant_id: '99999', user_id: 'otto', password: passwords.otto };
    const missing = await rawLogin(base);
    assert.equal(missing.status, 401);
    assert.equal(missing.json.error.code, 'second_factor_required');
    assert.equal(missing.cookie, undefined, 'no session without the second factor');
    const wrongPassword = await rawLogin({ ...base, password: 'wrong', totp_code: await code() });
    assert.equal(wrongPassword.json.error.code, 'bad_credentials');
    const c = await code(1);
    const next = await rawLogin({ ...base, totp_code: c });
    assert.equal(next.status, 200, 'one step ahead is accepted');
    const replay = await rawLogin({ ...base, totp_code: c });
    assert.equal(replay.json.error.code, 'bad_second_factor', 'a code is used once');
    const far = await rawLogin({ ...base, totp_code: await code(3) });
    assert.equal(far.json.error.code, 'bad_second_factor', 'three steps ahead is not');
    // Move past the used step: the next codes work.
    await fetch(`${worker.base}/__sandbox/clock`, { method: 'POST', body: JSON.stringify({ advance_seconds: 90 }) });
    assert.equal((await rawLogin({ ...base, totp_code: await code(-1) })).status, 200, 'one step behind is accepted');
  });

  it('a recovery code signs in once; then it is spent', async () => {
    const base = { merchant_id: '99999', user_id: 'otto', password: passwords.otto };
    const r = await rawLogin({ ...base, recovery_code: recovery[0].toUpperCase() });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.recovery_codes_left, 9);
    assert.equal((await rawLogin({ ...base, recovery_code: recovery[0] })).json.error.code, 'bad_second_factor');
    op = new Staff(r);
  });

  it('wrong codes count toward the lockout; an administrator can reset a lost second factor; the user can turn it off with a code', async () => {
    const r = await admin.post('users', { user_id: 'tina', role: 'viewer' });
    const tina = await signIn('99999', 'tina', r.json.password);
    const s = await tina.post('me/totp');
    const t = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(s.json.secret) });
    assert.equal((await tina.post('me/totp/confirm', { code: t.generate({ timestamp: await businessNowMs() }) })).status, 200);
    const base = { merchant_id: '99999', user_id: 'tina', password: r.json.password };
    for (let i = 0; i < 5; i++) assert.equal((await rawLogin({ ...base, totp_code: '000000' })).status, 401);
    const locked = await rawLogin({ ...base, totp_code: t.generate({ timestamp: await businessNowMs() }) });
    assert.equal(locked.status, 429);
    assert.equal(locked.json.error.code, 'sign_in_locked');
    assert.equal((await admin.call('PUT', 'users/tina', { reset_totp: true, reset_password: true })).status, 200);
    const users = (await admin.get('users')).json.data;
    assert.equal(users.find((u) => u.user_id === 'tina').totp_enabled, false);

    // Turning it off needs a current code.
    const again = await signIn('99999', 'tina', (await admin.call('PUT', 'users/tina', { reset_password: true })).json.password);
    const s2 = await again.post('me/totp');
    const t2 = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(s2.json.secret) });
    const now = await businessNowMs();
    assert.equal((await again.post('me/totp/confirm', { code: t2.generate({ timestamp: now }) })).status, 200);
    assert.equal((await again.post('me/totp/disable', { code: '123' })).json.error.code, 'bad_second_factor');
    assert.equal((await again.post('me/totp/disable', { code: t2.generate({ timestamp: now + 30_000 }) })).status, 200);
    assert.equal((await again.get('me')).json.totp_enabled, false);
  });
});

let cardPay;
let prepaidPay;
let netcashPay;
let pendingPay;
const searchOrder = orderId('search');

describe('payments: search, detail, actions', () => {
  before(async () => {
    prepaidPay = await paidPrepaid({ order_id: searchOrder, cust_code: 'cust-search-1', amount: '4321', tax: '0' });
    cardPay = await openCheckout(worker, purchase(merchant, { pay_method: 'card', sales_mode: 'specified', amount: '2000', tax: '0' }));
    const c = await api(worker, 'POST', `/pay/${cardPay}/card`, CARD);
    assert.equal(c.json.status, 'authorized', c.text);
    netcashPay = await openCheckout(worker, purchase(merchant, { pay_method: 'netcash', amount: '1500' }));
    assert.equal((await api(worker, 'POST', `/pay/${netcashPay}/netcash`, { netcash_id: 'ADMINTEST123456Z' })).json.status, 'paid');
    pendingPay = await openCheckout(worker, purchase(merchant, { amount: '777' }));
  });

  it('search by order id, tracking id, cust_code, method, status, amount range and JST dates, with the count and a cursor', async () => {
    const one = async (q) => {
      const r = await viewer.get(`payments?${q}`);
      assert.equal(r.status, 200, `${q}: ${r.text}`);
      return r.json;
    };
    let r = await one(`order_id=${searchOrder}`);
    assert.equal(r.count, 1);
    assert.equal(r.data[0].tracking_id, prepaidPay);
    assert.equal(r.data[0].cust_code, 'cust-search-1');
    assert.equal(r.data[0].amount, 4321);
    assert.equal((await one(`tracking_id=${cardPay}`)).data[0].status, 'authorized');
    assert.equal((await one('cust_code=cust-search-1')).count, 1);
    assert.ok((await one('method=card&status=authorized')).data.some((p) => p.tracking_id === cardPay));
    assert.ok((await one('method=card&status=authorized')).data.every((p) => p.method === 'card' && p.status === 'authorized'));
    r = await one('amount_min=4321&amount_max=4321');
    assert.deepEqual(r.data.map((p) => p.tracking_id), [prepaidPay]);
    const today = (await api(worker, 'GET', '/__sandbox/clock')).json.now_jst.slice(0, 8).replace(/(\d{4})(\d{2})(\d{2})/, '$1-$2-$3');
    const all = await one('');
    assert.equal((await one(`from=${today}&to=${today}`)).count, all.count, 'everything is from today (JST)');
    assert.equal((await one('from=2001-01-01&to=2001-01-31')).count, 0);
    // Paging: the cursor walks every payment once, newest first.
    const seen = [];
    let cursor = '';
    for (;;) {
      const page = await one(`limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(page.count, all.count);
      seen.push(...page.data.map((p) => p.tracking_id));
      if (!page.next_cursor) break;
      cursor = page.next_cursor;
    }
    assert.equal(seen.length, all.count);
    assert.equal(new Set(seen).size, seen.length);
    for (const [q, field] of [['status=nope', 'status'], ['method=cash', 'method'], ['from=2026-13-01', 'from'], ['amount_min=1.5', 'amount_min'],
      ['amount_min=-1', 'amount_min'], ['amount_min=10&amount_max=5', 'amount_max'], ['limit=0', 'limit'], ['cursor=zzz', 'cursor'], ['colour=red', 'query'],
      ['from=2026-02-02&to=2026-02-01', 'to']]) {
      const b = await viewer.get(`payments?${q}`);
      assert.equal(b.status, 400, q);
      assert.equal(b.json.error.code, 'invalid_query');
      assert.equal(b.json.error.field, field, q);
    }
  });

  it('detail: the actions allowed now with their limits, and refusals in words', async () => {
    const act = async (id) => Object.fromEntries((await viewer.get(`payments/${id}`)).json.actions.map((a) => [a.action, a]));
    const card = await act(cardPay);
    assert.equal(card.settle.allowed, true);
    assert.equal(card.settle.max_amount, 2000);
    assert.equal(card.settle.partial, true);
    assert.equal(card.cancel.allowed, true);
    assert.equal(card.refund.allowed, false);
    assert.match(card.refund.reason, /nothing can be refunded: 0 yen captured/);
    const prepaid = await act(prepaidPay);
    assert.deepEqual(Object.keys(prepaid), ['refund']);
    assert.equal(prepaid.refund.max_amount, 4321);
    const netcash = await act(netcashPay);
    assert.equal(netcash.netcash_refund.allowed, true);
    assert.equal(netcash.netcash_refund.max_amount, 1500);
    assert.match(netcash.netcash_refund.batch_closes, /^\d{4}-\d{2}-\d{2}$/);
    assert.match(netcash.netcash_refund.payout_date, /^\d{4}-\d{2}-\d{2}$/);
    assert.match(netcash.netcash_refund.deadline, /^\d{4}-\d{2}-\d{2}$/);
    assert.ok(netcash.netcash_refund.payout_date > netcash.netcash_refund.batch_closes);
    const pending = await act(pendingPay);
    for (const a of Object.values(pending)) {
      assert.equal(a.allowed, false);
      assert.equal(a.code, 'not_paid');
      assert.match(a.reason, /pending and has taken no money/);
    }
  });

  it('a partial settle, then the card is refunded in part: each through the payment object, in the timeline with its outcome', async () => {
    const s = await op.post(`payments/${cardPay}/settle`, { amount: 1800 }, { 'idempotency-key': 'settle-1' });
    assert.equal(s.status, 200, s.text);
    assert.equal(s.json.status, 'paid');
    assert.equal(s.json.captured, 1800);
    const again = await op.post(`payments/${cardPay}/settle`, { amount: 1800 }, { 'idempotency-key': 'settle-1' });
    assert.equal(again.json.captured, 1800, 'the same confirmation again is the same settlement');
    const tooMuch = await op.post(`payments/${cardPay}/refund`, { amount: 1801 }, { 'idempotency-key': 'refund-big' });
    assert.ok(tooMuch.status >= 400 && tooMuch.status < 500, tooMuch.text);
    assert.ok(tooMuch.json.error.code);
    for (const amount of ['100', -5, 1.5, 0]) {
      const bad = await op.post(`payments/${cardPay}/refund`, { amount }, { 'idempotency-key': `bad-${amount}` });
      assert.equal(bad.status, 400, `${amount}: ${bad.text}`);
    }
    const r = await op.post(`payments/${cardPay}/refund`, { amount: 500 }, { 'idempotency-key': 'refund-1' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.status, 'partially_refunded');
    const d = (await viewer.get(`payments/${cardPay}`)).json;
    assert.equal(d.payment.refunded, 500);
    assert.equal(d.refundable, 1300);
    const t = d.timeline;
    const ops = t.filter((e) => e.kind === 'operation').map((e) => [e.operation, e.amount, e.state]);
    assert.deepEqual(ops, [['attempt', 2000, 'succeeded'], ['capture', 1800, 'succeeded'], ['refund', 500, 'succeeded']]);
    const states = t.filter((e) => e.kind === 'state').map((e) => e.status).filter((st, i, all) => st !== all[i - 1]);
    assert.deepEqual(states, ['pending', 'processing', 'authorized', 'paid', 'partially_refunded']);
    const notes = t.filter((e) => e.kind === 'notification').map((e) => e.type);
    assert.ok(notes.includes('payment.partially_refunded'), notes.join());
    const ats = t.map((e) => e.at);
    assert.deepEqual(ats, [...ats].sort((a, b) => a - b), 'oldest first');
    const refundAction = d.actions.find((a) => a.action === 'refund');
    assert.equal(refundAction.max_amount, 1300);
    const cancel = d.actions.find((a) => a.action === 'cancel');
    assert.equal(cancel.allowed, false);
    assert.match(cancel.reason, /refund it instead/);
    // The refused actions changed nothing.
    assert.equal((await signedApi(worker, 'GET', `/v1/payments/${cardPay}`)).json.refunded, 500);
  });

  it('NET CASH refunds go into the weekly batch (its close and payout dates), and show in the timeline', async () => {
    const r = await op.post(`payments/${netcashPay}/refund`, { amount: 400 }, { 'idempotency-key': 'nc-1' });
    assert.ok([201, 202].includes(r.status), r.text);
    assert.match(r.json.batch_closes, /^\d{4}-\d{2}-\d{2}$/);
    const d = (await viewer.get(`payments/${netcashPay}`)).json;
    const b = d.timeline.find((e) => e.kind === 'batch_refund');
    assert.equal(b.amount, 400);
    assert.equal(b.payout_date, r.json.payout_date);
    assert.equal(d.actions[0].max_amount, 1100, 'the queued refund is reserved');
  });

  it('NP postpaid: the shipment report fixes the sale (then refunds are allowed), cancel only before it', async () => {
    const id = await openCheckout(worker, purchase(merchant, { pay_method: 'np', amount: '3300', tax: '300' }));
    const n = `${process.pid % 1000}${String(Date.now() % 1e5).padStart(5, '0')}`;
    const r = await api(worker, 'POST', `/pay/${id}/np`, {
      name: '山田 太郎', kana: 'ヤマダ タロウ', postal_code: '150-0001', address: '東京都渋谷区神宮前1-2-3',
      phone: `090${n.slice(-8).padStart(8, '0')}`, email: `admin${n}@example.jp`,
    });
    assert.equal(r.json.status, 'authorized', r.text);
    const act = async () => Object.fromEntries((await viewer.get(`payments/${id}`)).json.actions.map((a) => [a.action, a]));
    let a = await act();
    assert.deepEqual(Object.keys(a), ['shipment', 'cancel', 'refund']);
    assert.equal(a.shipment.allowed, true);
    assert.equal(a.shipment.max_amount, 3300);
    assert.equal(a.cancel.allowed, true);
    assert.equal(a.refund.allowed, false);
    assert.equal(a.refund.code, 'not_refundable');
    assert.match(a.refund.reason, /cancel the NP postpaid transaction instead/);
    const shipped = await op.post(`payments/${id}/shipment`, {}, { 'idempotency-key': 'ship-1' });
    assert.equal(shipped.status, 200, shipped.text);
    assert.equal(shipped.json.status, 'paid');
    a = await act();
    assert.equal(a.refund.allowed, true);
    assert.equal(a.refund.max_amount, 3300);
    assert.equal(a.cancel.allowed, false);
    assert.equal(a.shipment.allowed, false);
  });

  it('unknown payments and actions are 404s', async () => {
    assert.equal((await viewer.get('payments/pay_00000000000000000000000000')).status, 404);
    assert.equal((await viewer.get('payments/not-an-id')).status, 404);
    assert.equal((await op.post(`payments/${cardPay}/explode`, {})).status, 404);
    assert.equal((await op.post(`payments/${prepaidPay}/shipment`, {})).json.error.code, 'not_np');
  });
});

describe('webhook log', () => {
  it('lists deliveries with their attempts, filtered by payment, event id, type, status and date; re-sends one and the failed ones of a range', async () => {
    const all = (await viewer.get(`webhooks?payment_id=${cardPay}`)).json.data;
    assert.ok(all.length >= 3, JSON.stringify(all));
    const refunded = all.find((e) => e.type === 'payment.partially_refunded');
    assert.equal(refunded.state, 'delivered');
    assert.ok(refunded.attempts.length >= 1);
    assert.equal(refunded.attempts[0].status, 200);
    const byId = (await viewer.get(`webhooks?event_id=${refunded.event_id}`)).json.data;
    assert.deepEqual(byId.map((e) => e.event_id), [refunded.event_id]);
    const byType = (await viewer.get('webhooks?type=payment.partially_refunded')).json.data;
    assert.ok(byType.length >= 1 && byType.every((e) => e.type === 'payment.partially_refunded'));
    assert.ok((await viewer.get('webhooks?status=delivered')).json.data.every((e) => e.state === 'delivered'));
    assert.equal((await viewer.get('webhooks?from=2001-01-01&to=2001-01-02')).json.data.length, 0);
    assert.equal((await viewer.get('webhooks?status=lost')).json.error.field, 'status');

    const before = merchant.webhooks.length;
    const one = await op.post('webhooks/resend', { payment_id: cardPay, event_id: refunded.event_id });
    assert.equal(one.status, 200, one.text);
    assert.equal(merchant.webhooks.length, before + 1);
    assert.equal(merchant.webhooks.at(-1).payload.type, 'payment.partially_refunded');
    const manual = (await viewer.get(`webhooks?event_id=${refunded.event_id}`)).json.data[0].attempts;
    assert.ok(manual.some((a) => a.manual), 'the re-send is in the log');

    // Failed deliveries: the endpoint answers 500 for a while.
    merchant.webhookStatus = 500;
    const failing = await paidPrepaid();
    await eventually(async () => {
      const owed = (await viewer.get(`webhooks?payment_id=${failing}&status=pending`)).json.data;
      return owed.some((e) => e.attempts.length > 0 && e.attempts.every((a) => a.status === 500));
    }, { what: 'a failed delivery, pending a retry' });
    merchant.webhookStatus = 200;
    const range = await op.post('webhooks/resend-failed', { from: '2000-01-01', to: '2100-01-01' });
    assert.equal(range.status, 200, range.text);
    assert.ok(range.json.sent >= 1);
    assert.equal((await viewer.get(`webhooks?payment_id=${failing}&status=pending`)).json.data.length, 0);
    assert.equal((await op.post('webhooks/resend-failed', { from: 'yesterday', to: '2100-01-01' })).status, 400);
  });
});

describe('settings', () => {
  it('webhook URL, origins and methods through the API\'s rules; a rotated key is shown once; the audit keeps before/after but no key', async () => {
    const s = (await viewer.get('settings')).json;
    assert.equal(s.merchant_id, '99999');
    assert.equal(s.webhook_url, `${merchant.base}/webhooks`);
    const bad = await admin.call('PUT', 'settings', { webhook_url: 'ftp://x' });
    assert.equal(bad.status, 422);
    assert.equal(bad.json.error.code, 'invalid_webhook_url');
    const ok = await admin.call('PUT', 'settings', { enabled_methods: ['netcash', 'prepaid', 'np', 'au', 'card'], allowed_origins: ['http://127.0.0.1', 'http://localhost'] });
    assert.equal(ok.status, 200, ok.text);
    const rot = await admin.post('settings/rotate', { what: 'webhook_secret', overlap_seconds: 86400 });
    assert.equal(rot.status, 200, rot.text);
    assert.match(rot.json.value, /^whsec_/);
    assert.ok(!(await admin.get('settings')).text.includes(rot.json.value), 'never shown again');
    const audit = (await admin.get('audit')).json.data;
    const change = audit.find((e) => e.action === 'settings.change' && e.status === 200);
    assert.deepEqual(change.before.enabled_methods, ['netcash', 'prepaid', 'np', 'au', 'card']);
    assert.ok(change.after.allowed_origins);
    const rotation = audit.find((e) => e.action === 'settings.rotate');
    assert.equal(rotation.after.what, 'webhook_secret');
    assert.ok(!JSON.stringify(audit).includes(rot.json.value), 'the audit has no secret');
  });
});

describe('audit log', () => {
  it('every sign-in, failed sign-in, action and setting change: who, when, IP, status; exportable as CSV', async () => {
    await rawLogin({ merchant_id: '99999', user_id: 'vera', password: 'wrong' });
    const audit = (await admin.get('audit')).json.data;
    const failed = audit.find((e) => e.action === 'sign_in_failed' && e.user_id === 'vera');
    assert.ok(failed, 'failed sign-in');
    assert.equal(failed.ip, '203.0.113.7');
    assert.equal(failed.status, 401);
    assert.ok(audit.some((e) => e.action === 'sign_in' && e.user_id === 'otto'));
    const refund = audit.find((e) => e.action === 'payment.refund' && e.target === cardPay && e.status === 200);
    assert.equal(refund.user_id, 'otto');
    assert.equal(refund.before.refunded, 0);
    assert.equal(refund.after.amount, 500);
    assert.ok(audit.some((e) => e.action === 'payment.refund' && e.user_id === 'vera' && e.status === 403), 'refused actions too');
    assert.ok(audit.some((e) => e.action === 'user.create' && e.target === 'vera'));
    assert.ok(audit.some((e) => e.action === 'export.payments'));
    assert.ok(audit.every((e) => typeof e.at === 'number'));
    const csv = await admin.call('GET', 'audit.csv');
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-type'), /^text\/csv; charset=utf-8/);
    const lines = csv.text.replace(/^\uFEFF/, '').trim().split('\r\n');
    assert.equal(lines[0], 'at_jst,user_id,ip,action,target,status,before,after');
    assert.ok(lines.length >= audit.length, 'every entry, not one page');
    assert.ok(lines.some((l) => /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},vera,203\.0\.113\.7,sign_in_failed,,401,,$/.test(l)), lines.slice(0, 5).join('\n'));
  });
});

describe('CSV export', () => {
  const bytesOf = async (path) => {
    const r = await fetch(`${worker.base}/admin/api/${path}`, { headers: { cookie: viewer.cookie } });
    return { status: r.status, headers: r.headers, bytes: new Uint8Array(await r.arrayBuffer()) };
  };

  it('everything the search matches, over several D1 pages, streamed; UTF-8 with BOM by default, Shift_JIS on request', async () => {
    const cust = `bulk-${process.pid}`;
    const N = 105; // more than one page of the export (100 rows)
    for (let i = 0; i < N; i += 15) {
      await Promise.all(Array.from({ length: Math.min(15, N - i) }, (_, j) => openCheckout(worker, purchase(merchant, { cust_code: cust, item_name: `緑茶 ①-${i + j}`, amount: String(1000 + i + j), tax: '0' }))));
    }
    const r = await bytesOf(`payments.csv?cust_code=${cust}`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'text/csv; charset=utf-8');
    assert.match(r.headers.get('content-disposition'), /attachment; filename="payments.csv"/);
    assert.equal(r.headers.get('content-length'), null, 'streamed, not one buffer of known length');
    assert.deepEqual([...r.bytes.slice(0, 3)], [0xef, 0xbb, 0xbf], 'BOM');
    const text = new TextDecoder('utf-8').decode(r.bytes.slice(3));
    const lines = text.trim().split('\r\n');
    assert.equal(lines[0], 'tracking_id,order_id,cust_code,item_name,method,status,amount,tax,created_at_jst,updated_at_jst');
    assert.equal(lines.length, N + 1, 'every match, not one page');
    assert.equal(new Set(lines.slice(1).map((l) => l.split(',')[0])).size, N);
    assert.ok(lines.slice(1).every((l) => l.includes(`,${cust},`) && /,pending,\d{4},0,\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},/.test(l)), lines[1]);
    assert.ok(text.includes('緑茶 ①-104'));
    const sum = lines.slice(1).reduce((s, l) => s + Number(l.split(',')[6]), 0);
    assert.equal(sum, Array.from({ length: N }, (_, i) => 1000 + i).reduce((a, b) => a + b));

    const sj = await bytesOf(`payments.csv?cust_code=${cust}&encoding=shift_jis`);
    assert.equal(sj.headers.get('content-type'), 'text/csv; charset=shift_jis');
    assert.notDeepEqual([...sj.bytes.slice(0, 3)], [0xef, 0xbb, 0xbf], 'no BOM in Shift_JIS');
    const decoded = new TextDecoder('shift_jis', { fatal: true }).decode(sj.bytes);
    assert.equal(decoded, text, 'the same text, in Shift_JIS');
    const green = [0x97, 0xce, 0x92, 0x83]; // 緑茶 in Shift_JIS
    assert.ok(sj.bytes.some((_, i) => green.every((b, k) => sj.bytes[i + k] === b)));

    const none = await bytesOf('payments.csv?order_id=nothing-like-this');
    assert.equal(new TextDecoder().decode(none.bytes.slice(3)).trim().split('\r\n').length, 1, 'just the header');
    assert.equal((await bytesOf('payments.csv?encoding=latin1')).status, 400);
    assert.equal((await bytesOf('payments.csv?status=nope')).status, 400);
  });
});

describe('one merchant never sees another\'s data', () => {
  it('merchant 30001\'s administrator, at every endpoint, finds nothing of merchant 99999 and changes nothing of it', async () => {
    const created = await operator('POST', '/operator/merchants', { merchant_id: '30002', name: 'Third Shop', allowed_origins: ['http://127.0.0.1'] });
    const other = await signIn('30002', 'admin', created.json.admin_password);
    const mine = [cardPay, prepaidPay, netcashPay, pendingPay];
    assert.equal((await other.get('payments')).json.count, 0);
    assert.equal((await other.get(`payments?order_id=${searchOrder}`)).json.count, 0);
    assert.equal((await other.get(`payments?tracking_id=${cardPay}`)).json.count, 0);
    for (const id of mine) {
      assert.equal((await other.get(`payments/${id}`)).status, 404, id);
      for (const a of ['settle', 'cancel', 'refund', 'shipment', 'netcash-refund']) {
        const r = await other.post(`payments/${id}/${a}`, { amount: 1 }, { 'idempotency-key': `x-${id}-${a}` });
        assert.equal(r.status, 404, `${a} ${id}: ${r.text}`);
        assert.equal(r.json.error.code, 'payment_not_found');
      }
      assert.deepEqual((await other.get(`webhooks?payment_id=${id}`)).json.data, []);
    }
    assert.deepEqual((await other.get('webhooks')).json.data, []);
    const ev = (await viewer.get(`webhooks?payment_id=${cardPay}`)).json.data[0].event_id;
    assert.deepEqual((await other.get(`webhooks?event_id=${ev}`)).json.data, []);
    assert.equal((await other.post('webhooks/resend', { payment_id: cardPay, event_id: ev })).status, 404);
    const ranged = await other.post('webhooks/resend-failed', { from: '2000-01-01', to: '2100-01-01' });
    assert.ok(ranged.status === 409 || ranged.json.sent === 0, ranged.text);
    const csv = await fetch(`${worker.base}/admin/api/payments.csv`, { headers: { cookie: other.cookie } });
    assert.equal((await csv.text()).replace(/^\uFEFF/, '').trim().split('\r\n').length, 1);
    assert.deepEqual((await other.get('users')).json.data.map((u) => u.user_id), ['admin']);
    for (const [method, path, body] of [['PUT', 'users/vera', { role: 'administrator' }], ['PUT', 'users/otto', { reset_password: true }], ['DELETE', 'users/vera']]) {
      assert.equal((await other.call(method, path, body)).status, 404, `${method} ${path}`);
    }
    assert.equal((await admin.get('users')).json.data.find((u) => u.user_id === 'vera').role, 'viewer');
    const audit = (await other.get('audit')).json.data;
    assert.ok(audit.length > 0);
    assert.ok(audit.every((e) => e.user_id === 'admin' || e.user_id === null), JSON.stringify(audit.slice(0, 3)));
    // Its own audit holds its own attempts, each refused as not found.
    assert.ok(audit.filter((e) => e.target === cardPay).every((e) => e.status === 404));
    const auditCsv = await other.get('audit.csv');
    const rows = auditCsv.text.replace(/^\uFEFF/, '').trim().split('\r\n').slice(1);
    assert.ok(rows.length >= audit.length);
    assert.ok(rows.every((l) => l.split(',')[1] === 'admin'), 'only its own user');
    const settings = await other.get('settings');
    assert.equal(settings.json.merchant_id, '30002');
    assert.equal((await other.call('PUT', 'settings', { webhook_url: null })).status, 200);
    assert.equal((await admin.get('settings')).json.webhook_url, `${merchant.base}/webhooks`, 'the other merchant\'s change is its own');
    // Its key rotation is its own: the first merchant's API key still signs.
    assert.equal((await other.post('settings/rotate', { what: 'hash_key', overlap_seconds: 0 })).status, 200);
    assert.equal((await signedApi(worker, 'GET', '/v1/merchant')).status, 200);
    // A user of one merchant does not sign in to another.
    assert.equal((await rawLogin({ merchant_id: '30002', user_id: 'vera', password: passwords.vera })).status, 401);
    // And a session of one merchant is bound to it (the merchant id is not a parameter).
    assert.equal((await other.get('me')).json.merchant_id, '30002');
  });
});

describe('deadlines, in words', () => {
  it('after the NET CASH refund deadline the request is refused with the deadline\'s date, and nothing changes', async () => {
    const before = (await viewer.get(`payments/${netcashPay}`)).json;
    const deadline = before.actions[0].deadline;
    assert.match(deadline, /^\d{4}-\d{2}-\d{2}$/);
    // Four months later (sessions have ended by then: sign in again).
    await advanceClock(worker, 125 * 86400);
    const again = await signIn('99999', 'admin', 'kessai-sandbox-admin');
    const later = (await again.get(`payments/${netcashPay}`)).json;
    assert.equal(later.payment.refunded, 400, 'the batch refund was paid out meanwhile');
    const a = later.actions[0];
    assert.equal(a.action, 'netcash_refund');
    assert.equal(a.allowed, false);
    assert.equal(a.code, 'refund_deadline_passed');
    assert.equal(a.deadline, deadline);
    assert.ok(a.reason.includes(`was ${deadline}`), a.reason);
    const r = await again.post(`payments/${netcashPay}/netcash-refund`, { amount: 100 }, { 'idempotency-key': 'late-1' });
    assert.equal(r.status, 422);
    assert.equal(r.json.error.code, 'refund_deadline_passed');
    assert.equal((await again.get(`payments/${netcashPay}`)).json.payment.refunded, 400, 'nothing changed');
  });
});
