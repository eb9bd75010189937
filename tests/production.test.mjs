// The production build (PRODUCT §10, issue 9), run locally with
// `wrangler dev --env production` (edge-worker/build-production, made by
// `cargo xtask test`): no sandbox, no demo shop, no sandbox clock, no sandbox
// merchant; secrets required and never the published development values;
// operators create merchants whose URLs must be https host names; HSTS and
// a Secure session cookie.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PRODUCTION_SECRETS, ROOT, SANDBOX, api, jst, orderId, postPurchase, purchase, signedApi, startWorker } from './lib/harness.mjs';

let worker;
before(async () => {
  worker = await startWorker({ production: true });
});
after(async () => {
  await worker?.stop();
});

async function operator(method, path, body, token = PRODUCTION_SECRETS.OPERATOR_TOKEN) {
  const res = await fetch(`${worker.base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, json, text, headers: res.headers };
}

const SHOP = 'https://shop.example.jp';
/** A purchase for a production merchant whose pages are on SHOP. */
function shopPurchase(merchantId, key, overrides = {}) {
  return purchase({ base: SHOP }, { merchant_id: merchantId, order_id: orderId('prod'), request_date: jst(), ...overrides }, key);
}

describe('production build', () => {
  it('has no sandbox, demo shop or sandbox clock', async () => {
    for (const path of ['/', '/demo', '/demo/buy', '/sandbox/netcash/ids/ABCD1234EFGH5678', '/sandbox/cybersource/pts/v2/payments', '/__sandbox/clock']) {
      const r = await fetch(`${worker.base}${path}`, { redirect: 'manual' });
      assert.equal(r.status, 404, path);
    }
    const move = await api(worker, 'POST', '/__sandbox/clock', { advance_seconds: 86400 });
    assert.equal(move.status, 404);
  });

  it('has no sandbox merchant', async () => {
    const r = await postPurchase(worker, purchase({ base: 'http://127.0.0.1:4000' }));
    assert.match(await r.text(), /unknown_merchant/);
    const a = await signedApi(worker, 'GET', '/v1/merchant');
    assert.equal(a.status, 401);
    assert.equal(a.json.error.code, 'unknown_merchant');
    const admin = await fetch(`${worker.base}/admin/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-requested-with': 'kessai-admin' },
      body: JSON.stringify({ merchant_id: '99999', password: 'kessai-sandbox-admin' }),
    });
    assert.equal(admin.status, 401);
    assert.equal((await operator('GET', '/operator/merchants')).json.data.length, 0);
  });

  it('answers with HSTS', async () => {
    for (const path of ['/health', '/nothing-here', '/v1/merchant']) {
      const r = await fetch(`${worker.base}${path}`);
      assert.equal(r.headers.get('strict-transport-security'), 'max-age=63072000; includeSubDomains', path);
    }
  });

  it('takes the operator secret, not the development token', async () => {
    assert.equal((await operator('GET', '/operator/merchants', undefined, 'kessai-sandbox-operator')).status, 401);
    assert.equal((await operator('GET', '/operator/merchants')).status, 200);
  });

  it("merchants' origins and webhook URLs must be https host names", async () => {
    for (const origin of ['http://shop.example.jp', 'https://127.0.0.1', 'https://localhost:8443', 'https://shop.example.jp:*', 'http://127.0.0.1']) {
      const r = await operator('POST', '/operator/merchants', { merchant_id: '20001', name: 'Shop', allowed_origins: [origin] });
      assert.equal(r.status, 422, origin);
      assert.equal(r.json.error.code, 'invalid_origin', origin);
    }
    const hook = await operator('POST', '/operator/merchants', { merchant_id: '20001', name: 'Shop', allowed_origins: [SHOP], webhook_url: 'http://shop.example.jp/hooks' });
    assert.equal(hook.json.error.code, 'invalid_webhook_url');
    assert.equal((await operator('GET', '/operator/merchants/20001/001')).status, 404, 'nothing was created');

    const created = await operator('POST', '/operator/merchants', { merchant_id: '20001', name: 'Shop', allowed_origins: [SHOP] });
    assert.equal(created.status, 201, created.text);
    const key = { key: created.json.hash_key, merchantId: '20001' };
    for (const webhook_url of ['http://shop.example.jp/hooks', 'https://10.0.0.7/hooks', 'https://localhost/hooks']) {
      const r = await signedApi(worker, 'PUT', '/v1/merchant', { webhook_url }, key);
      assert.equal(r.status, 422, webhook_url);
      assert.equal(r.json.error.code, 'invalid_webhook_url');
    }
    const badOrigin = await signedApi(worker, 'PUT', '/v1/merchant', { allowed_origins: ['http://shop.example.jp'] }, key);
    assert.equal(badOrigin.json.error.code, 'invalid_origin');
    const ok = await signedApi(worker, 'PUT', '/v1/merchant', { webhook_url: `${SHOP}/hooks` }, key);
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json.webhook_url, `${SHOP}/hooks`);
    assert.deepEqual(ok.json.allowed_origins, [SHOP]);

    // Purchase requests: https pages of the merchant's origin only.
    const good = await postPurchase(worker, shopPurchase('20001', created.json.hash_key));
    assert.equal(good.status, 303);
    const pay = good.headers.get('location').split('/').pop();
    assert.equal((await api(worker, 'GET', `/pay/${pay}/session`)).json.merchant_name, 'Shop');
    const http = await postPurchase(worker, shopPurchase('20001', created.json.hash_key, { success_url: 'http://shop.example.jp/success' }));
    assert.match(await http.text(), /url_not_allowed/);

    // Suspended: refused.
    await operator('POST', '/operator/merchants/20001/001/suspend', { reason: 'review' });
    const refused = await postPurchase(worker, shopPurchase('20001', created.json.hash_key));
    assert.equal(refused.status, 403);
    assert.match(await refused.text(), /merchant_suspended/);
    await operator('POST', '/operator/merchants/20001/001/resume');
  });

  it("signs administration sessions in with a Secure cookie", async () => {
    const created = await operator('POST', '/operator/merchants', { merchant_id: '20002', name: 'Admin Shop', allowed_origins: [SHOP] });
    const r = await fetch(`${worker.base}/admin/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-requested-with': 'kessai-admin' },
      body: JSON.stringify({ merchant_id: '20002', password: created.json.admin_password }),
    });
    assert.equal(r.status, 200);
    const cookie = r.headers.get('set-cookie');
    assert.match(cookie, /; HttpOnly; SameSite=Strict; Max-Age=\d+; Secure$/);
    assert.equal(r.headers.get('strict-transport-security'), 'max-age=63072000; includeSubDomains');
  });
});

describe('production configuration', () => {
  it('refuses to serve with a development secret, and says which without showing it', async () => {
    const bad = await startWorker({ production: true, waitHealthy: false, vars: { OPERATOR_TOKEN: 'kessai-sandbox-operator' } });
    try {
      for (const path of ['/health', '/operator/merchants', '/link/purchase']) {
        const r = await fetch(`${bad.base}${path}`);
        assert.equal(r.status, 500, path);
        const text = await r.text();
        assert.doesNotMatch(text, /OPERATOR_TOKEN|kessai-sandbox-operator/);
      }
    } finally {
      await bad.stop();
    }
  });

  it('refuses to serve with a secret missing', async () => {
    const bad = await startWorker({ production: true, waitHealthy: false, vars: { NP_API_SECRET: undefined } });
    try {
      assert.equal((await fetch(`${bad.base}/health`)).status, 500);
      assert.equal((await signedApi(bad, 'GET', '/v1/merchant', undefined, { key: SANDBOX.hashKey })).status, 500);
    } finally {
      await bad.stop();
    }
  });
});

describe('production deploy', () => {
  it('`wrangler deploy --env production` bundles a Worker without any sandbox, with no secret in its configuration', () => {
    const out = mkdtempSync(join(tmpdir(), 'kessai-deploy-'));
    const log = execFileSync(join(ROOT, 'node_modules', '.bin', 'wrangler'), ['deploy', '--env', 'production', '--dry-run', '--outdir', out], {
      cwd: join(ROOT, 'edge-worker'),
      env: { ...process.env, PATH: `${join(ROOT, 'node_modules', '.bin')}:${process.env.PATH}`, KESSAI_PREBUILT: '1', WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' },
      stdio: ['ignore', 'pipe', 'pipe'],
    }).toString();
    assert.match(log, /env\.PAYMENTS \(PaymentObject\)/);
    assert.doesNotMatch(log, /SANDBOXES|SandboxObject|SANDBOX\b/);
    for (const name of Object.keys(PRODUCTION_SECRETS)) assert.ok(!log.includes(`env.${name} `), `${name} is a secret, not a var`);
    const bundle = Buffer.concat(readdirSync(out).filter((f) => /\.(wasm|js)$/.test(f)).map((f) => readFileSync(join(out, f))));
    assert.ok(bundle.includes('PaymentObject'), 'the bundle is the Worker');
    for (const s of ['SandboxObject', '/__sandbox/clock', '/sandbox/', SANDBOX.hashKey, 'Kessai Sandbox Shop', 'kessai-sandbox-admin']) {
      assert.ok(!bundle.includes(s), `the production bundle contains no ${s}`);
    }
  });
});
