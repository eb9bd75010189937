// Lighthouse scores for the bench (figures, never asserted):
// - the hosted payment page (`/pay/{id}` of a fresh checkout) with
//   Lighthouse's mobile emulation and simulated throttling: performance,
//   accessibility, best practices;
// - the administration tool's payment list and payment detail screens
//   (`/admin#/payments`, `/admin#/payments/{id}`), signed in as the sandbox
//   merchant's admin: accessibility, with the failing audits' ids.
//
// One Chromium (Debian's, /usr/bin/chromium) with a DevTools port on
// loopback: playwright-core signs in through its default context (the
// session cookie lives in that profile) and Lighthouse connects to the same
// browser by the port, with `disableStorageReset` so the cookie survives
// (its tabs open in that default context); a new tab afterwards checks the
// session is still there, so the scores are the signed-in screens', not the
// sign-in form's. Every run is bounded (RUN_TIMEOUT_MS) and loopback only.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import lighthouse from 'lighthouse';
import { chromium } from 'playwright-core';
import { api, ARTIFACTS, freePort, openCheckout, orderId, purchase, SANDBOX } from './harness.mjs';

const CARD = { number: '4111 1111 1111 1111', exp_month: '12', exp_year: '2030', cvc: '123', option: { kind: 'single' } };
const RUN_TIMEOUT_MS = 180_000;

function within(ms, what, promise) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no result after ${ms / 1000} s`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

/** One Lighthouse run against the shared browser: the categories' scores and the failing audits' ids per category. */
async function audit(name, port, url, categories, extra = {}) {
  const result = await within(RUN_TIMEOUT_MS, `Lighthouse on ${url}`, lighthouse(url, {
    port,
    hostname: '127.0.0.1',
    output: 'json',
    logLevel: 'error',
    onlyCategories: categories,
    maxWaitForLoad: 60_000,
    ...extra,
  }));
  if (!result?.lhr) throw new Error(`Lighthouse gave no result for ${url}`);
  const { lhr } = result;
  if (lhr.runtimeError) throw new Error(`Lighthouse on ${url}: ${lhr.runtimeError.code} ${lhr.runtimeError.message}`);
  const scores = {};
  const failing = {};
  for (const c of categories) {
    const cat = lhr.categories[c];
    scores[c] = cat?.score ?? null;
    failing[c] = (cat?.auditRefs ?? [])
      .filter((ref) => ref.weight > 0)
      .map((ref) => lhr.audits[ref.id])
      .filter((a) => a && a.score !== null && a.score < 1 && a.scoreDisplayMode !== 'notApplicable' && a.scoreDisplayMode !== 'informative' && a.scoreDisplayMode !== 'manual')
      .map((a) => a.id);
  }
  const metrics = {};
  for (const m of ['first-contentful-paint', 'largest-contentful-paint', 'total-blocking-time', 'cumulative-layout-shift', 'speed-index']) {
    if (lhr.audits[m]?.numericValue !== undefined) metrics[m] = lhr.audits[m].numericValue;
  }
  // The whole report, for a look at what failed (tests/artifacts is not committed).
  writeFileSync(join(ARTIFACTS, `lighthouse-${name}.json`), JSON.stringify(lhr));
  return { url: lhr.finalDisplayedUrl ?? url, scores, failing, metrics, warnings: lhr.runWarnings ?? [] };
}

/**
 * Runs Lighthouse against `worker` (from startWorker) and returns
 * { page: {scores, failing}, list: {...}, detail: {...} }.
 * `merchant` (from startMerchant) is used for the purchase forms.
 */
export async function lighthouseScores(worker, merchant) {
  const port = await freePort();
  const profile = mkdtempSync(join(tmpdir(), 'kessai-lighthouse-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    // Lighthouse does its own screen emulation: no viewport from playwright.
    viewport: null,
    args: [`--remote-debugging-port=${port}`, '--remote-debugging-address=127.0.0.1', '--no-sandbox', '--disable-gpu',
      '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: 60_000,
  });
  try {
    // 1. The hosted page of a fresh checkout (mobile emulation, Lighthouse's default).
    const pay = await openCheckout(worker, purchase(merchant));
    const page = await audit('pay', port, `${worker.base}/pay/${pay}`, ['performance', 'accessibility', 'best-practices']);

    // 2. A card payment for the admin screens to show.
    const order = orderId('lh');
    const id = await openCheckout(worker, purchase(merchant, { pay_method: 'card', order_id: order, amount: '2200', tax: '200' }));
    const paid = await api(worker, 'POST', `/pay/${id}/card`, CARD);
    if (paid.json?.status !== 'paid') throw new Error(`card payment not paid: ${paid.text}`);

    // 3. Sign in, in the browser's default context (the one Lighthouse's tabs share).
    const tab = context.pages()[0] ?? await context.newPage();
    tab.setDefaultTimeout(30_000);
    await tab.goto(`${worker.base}/admin`);
    await tab.locator('#merchant_id').fill(SANDBOX.merchant_id);
    await tab.locator('#password').fill('kessai-sandbox-admin');
    await tab.locator('#password').press('Enter');
    await tab.getByRole('navigation').waitFor();
    await tab.goto('about:blank');

    // 4. The admin screens, storage kept (the session cookie).
    const keep = { disableStorageReset: true };
    const list = await audit('admin-payments', port, `${worker.base}/admin#/payments`, ['accessibility'], keep);
    const detail = await audit('admin-payment', port, `${worker.base}/admin#/payments/${id}`, ['accessibility'], keep);
    // Still signed in, in a new tab of the same profile: the screens audited were the signed-in ones.
    const check = await context.newPage();
    try {
      await check.goto(`${worker.base}/admin#/payments/${id}`);
      await check.locator('dd.status').waitFor({ timeout: 15_000 });
    } catch {
      throw new Error('the admin session did not survive the Lighthouse runs: the scores would be the sign-in screen\'s');
    } finally {
      await check.close();
    }
    return { page, list, detail, paymentId: id };
  } finally {
    await context.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  }
}

/** Prints the scores against their goals (met / NOT met). */
export function printLighthouse(r) {
  const goal = (score, min) => `${score === null ? 'n/a' : score.toFixed(2)} (goal ${min === 1 ? '1.0' : `≥ ${min}`}: ${score !== null && score >= min ? 'met' : 'NOT met'})`;
  const failing = (ids) => (ids.length ? `; failing audits: ${ids.join(', ')}` : '');
  console.log('\nLighthouse (Lighthouse 13, Debian\'s Chromium, loopback; reports in tests/artifacts/lighthouse-*.json):');
  console.log('  hosted page /pay/{id}, mobile emulation, simulated throttling:');
  const m = r.page.metrics;
  const ms = (k) => (m[k] === undefined ? 'n/a' : `${(m[k] / 1000).toFixed(1)} s`);
  console.log(`    performance    ${goal(r.page.scores.performance, 0.95)}; FCP ${ms('first-contentful-paint')}, LCP ${ms('largest-contentful-paint')}, TBT ${m['total-blocking-time']?.toFixed(0) ?? 'n/a'} ms, CLS ${m['cumulative-layout-shift']?.toFixed(3) ?? 'n/a'}, SI ${ms('speed-index')}`);
  console.log(`    accessibility  ${goal(r.page.scores.accessibility, 1)}${failing(r.page.failing.accessibility)}`);
  console.log(`    best-practices ${goal(r.page.scores['best-practices'], 1)}${failing(r.page.failing['best-practices'])}`);
  console.log('  administration tool, signed in (mobile emulation):');
  console.log(`    payment list   /admin#/payments       accessibility ${goal(r.list.scores.accessibility, 1)}${failing(r.list.failing.accessibility)}`);
  console.log(`    payment detail /admin#/payments/{id}  accessibility ${goal(r.detail.scores.accessibility, 1)}${failing(r.detail.failing.accessibility)}`);
}
