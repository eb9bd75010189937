// SDK compatibility (PRODUCT §2: "the sandbox must accept requests signed
// by CyberSource's own published REST client SDKs"): CyberSource's Python
// SDK, installed from PyPI into tests/.venv-cybersource (once; gitignored), authorizes
// with Japanese Payment Options, captures, refunds and reverses an
// authorization (ReversalApi.auth_reversal) against our sandbox
// under `wrangler dev`, with HTTP Signature authentication exactly as the
// SDK produces it.

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT, api, startWorker } from './lib/harness.mjs';

// The SDK asks for setuptools <= 81 and reads its own version through
// pkg_resources, whose copy in the venv's bundled setuptools 65 cannot
// resolve the SDK's dependency `zope.interface` (installed as
// `zope_interface`): setuptools 81.0.0 can.
const SDK = ['cybersource-rest-client-python==0.0.80', 'setuptools==81.0.0'];
// Its own venv: the SDK brings urllib3-future, which breaks other tools.
const VENV = join(ROOT, 'tests', '.venv-cybersource');
const PY = join(VENV, 'bin', 'python');
// The sandbox credentials (edge-worker/wrangler.toml, README).
const CS = {
  merchantId: 'kessai_link_sandbox',
  keyId: '4f8a2c1e-7b3d-4e5f-9a6b-0c1d2e3f4a5b',
  secret: 'a2Vzc2FpLWxpbmstY3liZXJzb3VyY2Utc2FuZGJveCE=',
};

/** Installs the SDK into tests/.venv-cybersource unless it is already importable. */
function ensureSdk() {
  const check = "import warnings; warnings.simplefilter('ignore'); import pkg_resources, CyberSource; pkg_resources.require('cybersource-rest-client-python')";
  const importable = () => existsSync(PY) && spawnSync(PY, ['-c', check], { stdio: 'ignore' }).status === 0;
  if (importable()) return;
  if (!existsSync(PY)) execFileSync('python3', ['-m', 'venv', VENV], { stdio: 'inherit' });
  execFileSync(PY, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...SDK], { stdio: 'inherit', timeout: 600_000 });
  assert.ok(importable(), `${SDK} did not install`);
}

let worker;
before(async () => {
  ensureSdk();
  worker = await startWorker();
});
after(async () => {
  await worker?.stop();
});

function runSdk(step, reference) {
  const out = execFileSync(PY, ['-W', 'ignore', join(ROOT, 'tests', 'cybersource_sdk_payment.py')], {
    env: {
      ...process.env,
      SANDBOX_HOST: `127.0.0.1:${worker.port}`,
      SANDBOX_BASE: `${worker.base}/sandbox/cybersource`,
      CS_MERCHANT_ID: CS.merchantId,
      CS_KEY_ID: CS.keyId,
      CS_SECRET: CS.secret,
      CS_REFERENCE: reference,
      CS_STEP: step,
    },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return JSON.parse(out.trim().split('\n').pop());
}

describe('CyberSource Python SDK against the sandbox', () => {
  it('PaymentsApi.create_payment (JPO installments) is approved; CaptureApi and RefundApi work too', async () => {
    const ref = `sdk-${Date.now()}`;
    const r = runSdk('payment', ref);
    assert.equal(r.error, undefined, JSON.stringify(r.error));
    assert.equal(r.authorization.http, 201);
    assert.equal(r.authorization.status, 'AUTHORIZED');
    assert.match(r.authorization.id, /^\d{22}$/);
    assert.equal(r.capture.status, 'PENDING');
    assert.equal(r.refund.status, 'PENDING');

    const seen = await api(worker, 'GET', `/sandbox/cybersource/inspect/payments/${r.authorization.id}`);
    assert.equal(seen.status, 200);
    assert.deepEqual(seen.json.processingInformation.japanPaymentOptions, { paymentMethod: '61', installments: '3' });
    assert.equal(seen.json.card.last4, '1111');
    assert.equal(seen.json.authorized, 1100);
    assert.equal(seen.json.captured, 800);
    assert.equal(seen.json.refunded, 300);
    assert.ok(!JSON.stringify(seen.json).includes('4111111111111111'), 'the sandbox keeps no card number');
  });

  it('ReversalApi.auth_reversal reverses an authorization, as CyberSource cancels one', async () => {
    const ref = `sdk-rev-${Date.now()}`;
    const r = runSdk('reversal', ref);
    assert.equal(r.error, undefined, JSON.stringify(r.error));
    assert.equal(r.authorization.status, 'AUTHORIZED');
    assert.equal(r.reversal.http, 201);
    assert.equal(r.reversal.status, 'REVERSED');
    assert.equal(r.reversal.reversed, '1100');
    assert.match(r.reversal.id, /^\d{22}$/);

    const seen = await api(worker, 'GET', `/sandbox/cybersource/inspect/payments/${r.authorization.id}`);
    assert.equal(seen.json.status, 'REVERSED');
    assert.equal(seen.json.authorized, 0);
    assert.deepEqual(seen.json.reversals.map((x) => [x.id, x.code, x.amount]), [[r.reversal.id, `${ref}-reversal`, 1100]]);
  });

  it('the same request signed with another secret is refused with 401', async () => {
    const r = runSdk('bad_secret', `sdk-bad-${Date.now()}`);
    assert.equal(r.error?.http, 401, JSON.stringify(r));
    assert.match(r.error.body, /signature_mismatch/);
  });
});
