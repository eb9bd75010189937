// Benchmarks (figures printed, never asserted):
// 1. bytes the hosted page transfers before it is payable (goal ≤ 100 KB),
//    as served and as gzip (what Cloudflare's edge sends compressed);
// 2. purchase-request throughput against a trivial route, same run, same
//    workerd (goal ≥ 0.7×);
// 3. 200 shoppers paying at once (p50/p99 of the pay request, errors), and
//    100 payments with the Worker killed at random moments (ledger
//    disagreements, events lost: both must be 0);
// 4. a monthly billing run of 10,000 subscriptions (wall time,
//    subscriptions per second, CPU per subscription, duplicates: must be 0),
//    on the development build (it has the sandbox clock that moves to the 1st).

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { launchChromium, openCheckout, postPurchase, purchase, ROOT, signedApi, startMerchant, startWorker } from '../lib/harness.mjs';
import { concurrentShoppers, killedMidRun } from '../lib/load.mjs';
import { billingRun } from '../lib/billing.mjs';

const merchant = await startMerchant();
// The bench's own build (edge-worker/build-bench): never the one `cargo xtask dev` serves.
const SCRIPT = 'build-bench/index.js';
let worker = await startWorker({ script: SCRIPT });
merchant.workerBase = worker.base;
await signedApi(worker, 'PUT', '/v1/merchant', { webhook_url: `${merchant.base}/webhooks` });

try {
  // 1. Page weight.
  const browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 360, height: 740 } });
  const pay = await openCheckout(worker, purchase(merchant));
  const resources = [];
  page.on('response', async (res) => {
    try {
      const body = await res.body();
      resources.push({ url: res.url().replace(worker.base, ''), bytes: body.length, gzip: gzipSync(body, { level: 9 }).length });
    } catch { /* redirects have no body */ }
  });
  const started = performance.now();
  await page.goto(`${worker.base}/pay/${pay}`);
  await page.locator('#pay-button:not([disabled])').waitFor();
  const payableMs = performance.now() - started;
  await new Promise((r) => setTimeout(r, 300));
  await browser.close();
  const total = resources.reduce((a, r) => a + r.bytes, 0);
  const gz = resources.reduce((a, r) => a + r.gzip, 0);
  console.log('\nHosted page, until payable (360 px, loopback):');
  for (const r of resources) console.log(`  ${r.url.padEnd(48)} ${String(r.bytes).padStart(8)} B  gzip ${String(r.gzip).padStart(7)} B`);
  console.log(`  total ${(total / 1024).toFixed(1)} KB as served, ${(gz / 1024).toFixed(1)} KB gzip (goal ≤ 100 KB); payable after ${payableMs.toFixed(0)} ms`);

  // 2. Throughput.
  const seconds = Number(process.env.BENCH_SECONDS ?? 5);
  const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 8);
  async function measure(name, one) {
    let done = 0;
    let failed = 0;
    const until = performance.now() + seconds * 1000;
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        try { (await one()) ? done++ : failed++; } catch { failed++; }
      }
    }));
    const rps = done / seconds;
    console.log(`  ${name.padEnd(36)} ${rps.toFixed(0).padStart(6)} req/s  (${failed} failed)`);
    return rps;
  }
  console.log(`\nThroughput on workerd via wrangler dev (${concurrency} clients, ${seconds} s each):`);
  const trivial = await measure('GET /health (trivial route)', async () => (await fetch(`${worker.base}/health`)).ok);
  const purchases = await measure('POST /link/purchase (signed, new order)', async () => {
    const r = await postPurchase(worker, purchase(merchant));
    return r.status === 303;
  });
  console.log(`  ratio purchase / trivial = ${(purchases / trivial).toFixed(2)} (goal ≥ 0.7)`);

  // 3. The production Worker's bundle (what `wrangler deploy --env production` uploads).
  const out = mkdtempSync(join(tmpdir(), 'kessai-deploy-'));
  execFileSync(join(ROOT, 'node_modules', '.bin', 'wrangler'), ['deploy', '--env', 'production', '--dry-run', '--outdir', out], {
    cwd: join(ROOT, 'edge-worker'),
    env: { ...process.env, PATH: `${join(ROOT, 'node_modules', '.bin')}:${process.env.PATH}`, KESSAI_PREBUILT: '1', WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const files = readdirSync(out).filter((f) => /\.(wasm|js)$/.test(f));
  const raw = files.reduce((a, f) => a + readFileSync(join(out, f)).length, 0);
  const gzipped = files.reduce((a, f) => a + gzipSync(readFileSync(join(out, f)), { level: 9 }).length, 0);
  console.log(`\nProduction Worker bundle: ${(raw / 1024).toFixed(0)} KB, ${(gzipped / 1024).toFixed(0)} KB gzip (goal ≤ 300 KB gzip)`);

  // 4. Load and faults, full size (the test suite runs them smaller).
  const shoppers = Number(process.env.BENCH_SHOPPERS ?? 200);
  const load = await concurrentShoppers(worker, merchant, shoppers);
  console.log(`\n${shoppers} shoppers paying at once (NET CASH, prepaid, card, NP):`);
  console.log(`  pay request p50 ${load.p50.toFixed(0)} ms, p99 ${load.p99.toFixed(0)} ms; errors ${load.errors.length}; ledger disagreements ${load.disagreements.length}`);
  const ctx = { worker, script: SCRIPT };
  const seed = Number(process.env.CHAOS_SEED ?? 20261201);
  const chaos = await killedMidRun(ctx, merchant, { n: 100, kills: 8, seed, vars: () => ({}) });
  worker = ctx.worker;
  console.log(`\n100 payments, Worker killed ${chaos.killed} times at random (seed ${seed}):`);
  console.log(`  ${chaos.interrupted} pay requests cut off; ledger disagreements ${chaos.disagreements.length}; events lost ${chaos.lost.length}; repeated deliveries ${chaos.duplicates} (same webhook-id)`);
  // 5. The monthly billing run (the dev build: it has the sandbox clock).
  await worker.stop();
  worker = await startWorker();
  const subs = Number(process.env.BENCH_SUBSCRIPTIONS ?? 10000);
  const run = await billingRun(worker, subs);
  console.log(`\nMonthly billing run of ${subs} au subscriptions (cron → queue pages of 100 → one object each):`);
  console.log(`  wall ${run.wall.toFixed(1)} s, ${run.perSecond.toFixed(0)} subscriptions/s, CPU ${run.cpuMsPerSubscription.toFixed(1)} ms per subscription (wrangler + workerd, all isolates)`);
  console.log(`  charged ${run.charged} of ${subs}; duplicates ${run.duplicates} (must be 0)`);
} finally {
  await worker.stop();
  await merchant.close();
}
