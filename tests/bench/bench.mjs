// Benchmarks (figures printed, never asserted):
// 1. bytes the hosted page transfers from our origin before it is payable
//    (goal ≤ 90 KB): the body of every response to a request made before
//    it is payable, as gzip (what Cloudflare's edge sends compressed), plus
//    its headers, in Chromium at 360 px; what Chromium received on the wire
//    beside it; and the time to payable on a throttled phone;
// 2. purchase-request throughput against a trivial route, same run, same
//    workerd (goal ≥ 0.7×), at saturation (128 clients; 8 and 32 printed
//    too, so the levelling off shows): alternating rounds, the median
//    ratio (the machine is shared, so one long window of each would compare
//    two different loads); the ratio at 8 clients beside it;
// 3. 200 shoppers paying at once (p50/p99 of the pay request, errors), and
//    100 payments with the Worker killed at random moments (ledger
//    disagreements, events lost: both must be 0);
// 4. a monthly billing run of 10,000 subscriptions (wall time,
//    subscriptions per second, CPU per subscription, duplicates: must be 0),
//    on the development build (it has the sandbox clock that moves to the 1st);
// 5. Lighthouse (run right after 1, before the load): the hosted page with
//    mobile emulation (performance goal ≥ 0.95, accessibility and best
//    practices 1.0) and the administration tool's payment list and detail
//    screens (accessibility 1.0, with the failing audits' ids).

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, constants as zlibConstants, gzipSync } from 'node:zlib';
import { formBody, launchChromium, openCheckout, postPurchase, purchase, ROOT, signedApi, startMerchant, startWorker } from '../lib/harness.mjs';
import { concurrentShoppers, killedMidRun } from '../lib/load.mjs';
import { billingRun } from '../lib/billing.mjs';
import { lighthouseScores, printLighthouse } from '../lib/lighthouse.mjs';

const merchant = await startMerchant();
// The bench's own build (edge-worker/build-bench): never the one `cargo xtask dev` serves.
const SCRIPT = process.env.BENCH_SCRIPT ?? 'build-bench/index.js';
let worker = await startWorker({ script: SCRIPT });
merchant.workerBase = worker.base;
await signedApi(worker, 'PUT', '/v1/merchant', { webhook_url: `${merchant.base}/webhooks` });

// `BENCH_ONLY=…`: stop after that part.
async function endHere() {
  await worker.stop();
  await merchant.close();
  process.exit(0);
}

try {
  const kb = (n) => (n / 1024).toFixed(1);
  let pageBytes = NaN;
  if (process.env.BENCH_ONLY !== 'throughput') {
    // 1. Page weight: every response to a request made before the page is
    // payable (the text pack comes later, on the shopper's first touch).
    const browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 360, height: 740 } });
    const pay = await openCheckout(worker, purchase(merchant));
    const asked = new Map();
    page.on('request', (req) => asked.set(req, performance.now()));
    const pending = [];
    page.on('response', (res) => pending.push((async () => {
      try {
        const body = await res.body();
        const sizes = await res.request().sizes();
        const brotli = brotliCompressSync(body, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 11 } }).length;
        return { req: res.request(), url: res.url().replace(worker.base, ''), bytes: body.length, gzip: gzipSync(body, { level: 9 }).length, brotli, wire: sizes.responseBodySize, headers: sizes.responseHeadersSize };
      } catch { return null; /* redirects have no body */ }
    })()));
    const started = performance.now();
    await page.goto(`${worker.base}/pay/${pay}`);
    await page.locator('#pay-button:not([disabled])').waitFor();
    const payableAt = performance.now();
    const payableMs = payableAt - started;
    await new Promise((r) => setTimeout(r, 300));
    const resources = (await Promise.all(pending)).filter((r) => r && asked.get(r.req) < payableAt);
    await browser.close();
    const sum = (k) => resources.reduce((a, r) => a + r[k], 0);

    pageBytes = sum('gzip') + sum('headers');
    console.log('\nHosted page, until payable (360 px, loopback):');
    for (const r of resources) {
      console.log(`  ${r.url.padEnd(48)} ${String(r.bytes).padStart(8)} B  gzip ${String(r.gzip).padStart(7)} B  on the wire ${String(r.wire).padStart(7)} B  headers ${String(r.headers).padStart(4)} B`);
    }
    console.log(`  ${kb(sum('bytes'))} KB as served; gzip ${kb(sum('gzip'))} KB + headers ${kb(sum('headers'))} KB; as Chromium received them ${kb(sum('wire') + sum('headers'))} KB; brotli would be ${kb(sum('brotli'))} KB + headers`);
    console.log(`  PAGE BYTES BEFORE PAYABLE: ${kb(pageBytes)} KB (gzip bodies + headers; goal ≤ 90 KB); payable after ${payableMs.toFixed(0)} ms`);

    // Time to payable on a throttled phone: Lighthouse's mobile "slow 4G"
    // (150 ms round trip, 1.6 Mbit/s down, 750 kbit/s up) and a 4× slower
    // CPU; median of 3 fresh loads. Also when what is being paid (merchant,
    // item, amount, in the HTML) is on screen.
    {
      const runs = [];
      for (let i = 0; i < 3; i++) {
        const b = await launchChromium();
        try {
          const p = await b.newPage({ viewport: { width: 360, height: 740 } });
          const cdp = await p.context().newCDPSession(p);
          await cdp.send('Network.enable');
          await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 150, downloadThroughput: (1.6 * 1024 * 1024) / 8, uploadThroughput: (750 * 1024) / 8 });
          await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
          const id = await openCheckout(worker, purchase(merchant));
          const t0 = performance.now();
          await p.goto(`${worker.base}/pay/${id}`, { waitUntil: 'commit' });
          await p.locator('.summary .price').waitFor();
          const shown = performance.now() - t0;
          await p.locator('#pay-button:not([disabled])').waitFor({ timeout: 60000 });
          runs.push({ shown, payable: performance.now() - t0 });
        } finally {
          await b.close();
        }
      }
      const median = (k) => runs.map((r) => r[k]).sort((a, b) => a - b)[1];
      console.log(`  THROTTLED PHONE (slow 4G, 4× CPU): amount on screen after ${median('shown').toFixed(0)} ms, payable after ${median('payable').toFixed(0)} ms (median of 3)`);
    }

    // `BENCH_ONLY=page`: the page's figures alone (quick, while cutting
    // bytes); `BENCH_ONLY=throughput`: the throughput's alone.
    if (process.env.BENCH_ONLY === 'page') await endHere();

    // Lighthouse, while the machine is quiet (before the load runs).
    try {
      printLighthouse(await lighthouseScores(worker, merchant));
    } catch (e) {
      console.log(`\nLighthouse: not measured (${e.message})`);
    }
  }

  // 2. Throughput: what each route serves per second at saturation. A
  // closed loop of 8 clients measures latency as much as capacity: there
  // the trivial route is already near this machine's limit, while each
  // purchase client mostly waits on its order id's D1 round trip (in wrangler
  // dev an internal request of its own) and the row's group commit, which
  // saves D1 calls only as requests overlap. So both routes are driven at
  // 8, 32 and 128 clients; the figure is the median ratio of the paired
  // rounds at 128, where both rates have levelled off; the ratio at 8
  // clients is printed too. The merchant's side
  // (signing each purchase request) is done before each purchase window, as
  // a merchant's server does it, not on this machine's cores during the
  // window; each route's CPU per request (both of wrangler dev's workerd
  // processes, its Node process, this client) is printed beside its rate,
  // a steadier figure than the rate on a shared machine.
  const seconds = Number(process.env.BENCH_SECONDS ?? 3);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
  const levels = (process.env.BENCH_CONCURRENCY ?? '8,32,128').split(',').map(Number);
  function cpu() {
    const out = { workerd: 0, wrangler: 0, client: 0 };
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      try {
        const st = readFileSync(`/proc/${d}/stat`, 'utf8');
        const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
        if (Number(f[2]) !== worker.pgid) continue;
        const ms = (Number(f[11]) + Number(f[12])) * 10;
        if (st.slice(st.indexOf('(') + 1, st.lastIndexOf(')')).includes('workerd')) out.workerd += ms;
        else out.wrangler += ms;
      } catch { /* gone */ }
    }
    const u = process.cpuUsage();
    out.client = (u.user + u.system) / 1000;
    return out;
  }
  async function measure(concurrency, one) {
    let done = 0;
    let failed = 0;
    const c0 = cpu();
    const until = performance.now() + seconds * 1000;
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        try { (await one()) ? done++ : failed++; } catch { failed++; }
      }
    }));
    const c1 = cpu();
    const per = (k) => (c1[k] - c0[k]) / Math.max(done, 1);
    return { rps: done / seconds, failed, workerd: per('workerd'), all: per('workerd') + per('wrangler') + per('client') };
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`\nThroughput on workerd via wrangler dev (${levels.join(', ')} clients; ${rounds} rounds of ${seconds} s each route at each):`);
  let signed = 3000;
  const atLevel = [];
  for (const concurrency of levels) {
    const trivialRates = [];
    const purchaseRates = [];
    const ratios = [];
    const cpuRatios = [];
    let failed = 0;
    for (let i = 0; i < rounds; i++) {
      const trivial = await measure(concurrency, async () => (await fetch(`${worker.base}/health`)).ok);
      const forms = Array.from({ length: signed }, () => formBody(purchase(merchant)));
      const purchases = await measure(concurrency, async () => (await postPurchase(worker, forms.pop() ?? purchase(merchant))).status === 303);
      signed = Math.ceil(purchases.rps * seconds * 1.5) + 100;
      trivialRates.push(trivial.rps);
      purchaseRates.push(purchases.rps);
      ratios.push(purchases.rps / trivial.rps);
      cpuRatios.push(trivial.all / purchases.all);
      failed += trivial.failed + purchases.failed;
      console.log(`  ${String(concurrency).padStart(3)} clients, round ${i + 1}: GET /health (trivial route) ${trivial.rps.toFixed(0).padStart(5)} req/s (CPU ${trivial.workerd.toFixed(2)} ms workerd, ${trivial.all.toFixed(2)} ms in all); POST /link/purchase (signed, new order) ${purchases.rps.toFixed(0).padStart(5)} req/s (CPU ${purchases.workerd.toFixed(2)} ms workerd, ${purchases.all.toFixed(2)} ms in all); ratio ${(purchases.rps / trivial.rps).toFixed(2)}`);
    }
    const level = { concurrency, trivial: median(trivialRates), purchase: median(purchaseRates), ratio: median(ratios), cpu: median(cpuRatios), failed };
    atLevel.push(level);
    console.log(`  ${String(concurrency).padStart(3)} clients: /health ${level.trivial.toFixed(0)} req/s, purchase ${level.purchase.toFixed(0)} req/s (medians); ratio ${level.ratio.toFixed(2)} (median of rounds), by CPU per request ${level.cpu.toFixed(2)}; ${failed} failed`);
  }
  // Saturation: the most clients (the table above shows both rates level
  // off there); the ratio is the median of that level's paired rounds.
  const top = atLevel[atLevel.length - 1];
  const ratio = top.ratio;
  const ratioAt8 = atLevel.find((l) => l.concurrency === 8 && l !== top)?.ratio;
  console.log(`  PURCHASE / TRIVIAL THROUGHPUT: ${ratio.toFixed(2)} at saturation (${top.concurrency} clients: purchase ${top.purchase.toFixed(0)} req/s, /health ${top.trivial.toFixed(0)} req/s; median of ${rounds} paired rounds; goal ≥ 0.7)${ratioAt8 === undefined ? '' : `; at 8 clients ${ratioAt8.toFixed(2)}`}`);
  if (process.env.BENCH_ONLY === 'throughput') await endHere();

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
  // The Worker killed mid-run: the development build, whose sandbox clock
  // moves the sweep that reconciles interrupted calls (the bench's own
  // build has no clock door).
  await worker.stop();
  worker = await startWorker();
  merchant.workerBase = worker.base;
  await signedApi(worker, 'PUT', '/v1/merchant', { webhook_url: `${merchant.base}/webhooks` });
  const ctx = { worker };
  const seed = Number(process.env.CHAOS_SEED ?? 20261201);
  const chaos = await killedMidRun(ctx, merchant, { n: 100, kills: 8, seed, vars: () => ({}) });
  worker = ctx.worker;
  console.log(`\n100 payments, Worker killed ${chaos.killed} times at random (seed ${seed}):`);
  console.log(`  ${chaos.interrupted} pay requests cut off; ledger disagreements ${chaos.disagreements.length}; events lost ${chaos.lost.length}; repeated deliveries ${chaos.duplicates} (same webhook-id)`);
  console.log('\nIssue 12 goals:');
  console.log(`  page bytes before payable ${kb(pageBytes)} KB, goal ≤ 90 KB: ${pageBytes <= 90 * 1024 ? 'met' : 'NOT met'}`);
  console.log(`  purchase / trivial throughput at saturation ${ratio.toFixed(2)}, goal ≥ 0.7: ${ratio >= 0.7 ? 'met' : 'NOT met'}${ratioAt8 === undefined ? '' : ` (at 8 clients ${ratioAt8.toFixed(2)})`}`);
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
