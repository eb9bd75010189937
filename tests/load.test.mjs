// Load and fault proofs at a size that fits CI (issue 12 §5; `cargo xtask
// bench` runs them at full size and prints the figures): shoppers paying at
// once across methods, and a run of payments with the Worker killed at
// random moments. Our books must equal the providers' ledgers after each.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { signedApi, startMerchant, startWorker } from './lib/harness.mjs';
import { concurrentShoppers, killedMidRun } from './lib/load.mjs';

let merchant;
const ctx = { worker: null };
const vars = () => ({ WEBHOOK_TIMEOUT_MS: '2000' });

before(async () => {
  merchant = await startMerchant();
  ctx.worker = await startWorker({ vars: vars() });
  assert.equal((await signedApi(ctx.worker, 'PUT', '/v1/merchant', { webhook_url: `${merchant.base}/webhooks` })).status, 200);
});
after(async () => {
  await ctx.worker?.stop();
  await merchant?.close();
});

describe('under load and faults, our books equal the providers\'', () => {
  it('40 shoppers pay 40 checkouts at once across NET CASH, prepaid, card and NP: no error, every payment equals its ledger', async () => {
    const r = await concurrentShoppers(ctx.worker, merchant, 40);
    console.log(`# 40 concurrent shoppers: pay p50 ${r.p50.toFixed(0)} ms, p99 ${r.p99.toFixed(0)} ms`);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.disagreements, []);
  });

  it('30 payments with the Worker killed (SIGKILL) at 3 random moments: every payment ends as its provider says, every event reaches the merchant', async () => {
    const seed = Number(process.env.CHAOS_SEED ?? 20261201);
    const r = await killedMidRun(ctx, merchant, { n: 30, kills: 3, seed, vars });
    console.log(`# chaos seed ${seed}: ${r.killed} kills, ${r.interrupted} pay requests cut off, ${r.received} events received, ${r.duplicates} repeated deliveries (same webhook-id)`);
    assert.equal(r.killed, 3);
    assert.deepEqual(r.disagreements, [], `seed ${seed}`);
    assert.deepEqual(r.lost, [], `seed ${seed}`);
  });
});
