// Load and fault proofs shared by `tests/load.test.mjs` (a size that fits
// CI) and `tests/bench/bench.mjs` (full size, figures printed): many
// shoppers paying at once across methods, and a run of payments during
// which the Worker is killed at random moments and restarted. Each ends by
// comparing every payment with the provider sandbox's ledger.
//
// Randomness is injected: a seeded generator, its seed printed.

import { advanceClock, api, openCheckout, purchase, signedApi, startWorker } from './harness.mjs';

/** xorshift32: deterministic for a seed. */
export function rng(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x / 0x100000000;
  };
}

let seq = 0;
const uniq = () => `${Date.now() % 1e7}`.padStart(7, '0') + String(++seq).padStart(5, '0');
const METHODS = ['netcash', 'prepaid', 'card', 'np'];

/** What a shopper of `method` sends, and how to read the provider's ledger afterwards. */
function shopper(method) {
  const n = uniq();
  switch (method) {
    case 'netcash': {
      const id = `LOAD${n.slice(-11)}A`;
      return { body: { netcash_id: id }, ledger: async (w) => 10000 - (await api(w, 'GET', `/sandbox/netcash/ids/${id}`)).json.balance };
    }
    case 'prepaid': {
      const card = `6${n}789`.slice(0, 16).padEnd(16, '1');
      return { body: { card_number: card }, ledger: async (w) => 10000 - (await api(w, 'GET', `/sandbox/prepaid/cards/${card}`)).json.balance };
    }
    case 'card':
      return {
        body: { number: '4111111111111111', exp_month: '12', exp_year: '2030', cvc: '123', option: { kind: 'single' } },
        ledger: async (w, pay) => {
          const seen = (await api(w, 'GET', `/sandbox/cybersource/inspect/references/${pay}-1`)).json;
          // What still stands at CyberSource: captured, less what was voided or reversed.
          return (seen.payments ?? []).reduce((a, p) => a + (p.voids.length || p.reversals?.length ? 0 : p.captured), 0);
        },
      };
    case 'np':
      return {
        body: {
          name: '山田 太郎', kana: 'ヤマダ タロウ', postal_code: '150-0001', address: '東京都渋谷区神宮前1-2-3',
          phone: `070${n.slice(-8)}`, email: `load${n}@example.jp`,
        },
        ledger: async (w, pay) => {
          const r = await api(w, 'GET', `/sandbox/np/transactions/${pay}-1`);
          return r.status === 200 && ['approved', 'shipped'].includes(r.json.status) ? r.json.billed_amount : 0;
        },
      };
    default:
      throw new Error(method);
  }
}

function percentile(sorted, p) {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** What our record says was taken (for NP: authorized; sales are fixed later). */
function ours(p) {
  if (['paid', 'partially_refunded', 'refunded', 'refund_required'].includes(p.status)) return p.captured;
  if (p.status === 'authorized') return p.amount;
  return 0;
}

/**
 * `n` shoppers pay `n` checkouts at once, methods in turn. Returns the pay
 * requests' latencies (ms), errors, and payments whose record disagrees
 * with the provider's ledger.
 */
export async function concurrentShoppers(worker, merchant, n) {
  const jobs = [];
  for (let i = 0; i < n; i++) {
    const method = METHODS[i % METHODS.length];
    const pay = await openCheckout(worker, purchase(merchant, { pay_method: method, amount: '1100', tax: '100' }));
    jobs.push({ method, pay, who: shopper(method) });
  }
  const latencies = [];
  const errors = [];
  await Promise.all(jobs.map(async (j) => {
    const t = performance.now();
    const r = await api(worker, 'POST', `/pay/${j.pay}/${j.method}`, j.who.body);
    latencies.push(performance.now() - t);
    if (r.status !== 200 || !['paid', 'authorized'].includes(r.json?.status)) errors.push(`${j.method} ${j.pay}: ${r.status} ${r.text.slice(0, 200)}`);
  }));
  latencies.sort((a, b) => a - b);
  const disagreements = await ledgerCheck(worker, jobs);
  return { n, errors, disagreements, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

async function ledgerCheck(worker, jobs) {
  const out = [];
  for (const j of jobs) {
    const p = (await signedApi(worker, 'GET', `/v1/payments/${j.pay}`)).json;
    const theirs = await j.who.ledger(worker, j.pay);
    if (ours(p) !== theirs) out.push(`${j.method} ${j.pay}: ours ${p.status} ${ours(p)} yen, provider ${theirs} yen`);
    if (['processing', 'reconciling'].includes(p.status)) out.push(`${j.method} ${j.pay}: still ${p.status}`);
  }
  return out;
}

/**
 * `n` payments, paid a few at a time, while the Worker is killed (SIGKILL)
 * at random moments and restarted on the same state. Afterwards time moves
 * on so every interrupted attempt is reconciled; then every payment must
 * agree with its provider's ledger and every event of every payment must
 * have reached the merchant (deduplicable by webhook-id).
 */
export async function killedMidRun(ctx, merchant, { n, kills, seed, vars }) {
  const rand = rng(seed);
  const jobs = [];
  for (let i = 0; i < n; i++) {
    const method = METHODS[Math.floor(rand() * METHODS.length)];
    const pay = await openCheckout(ctx.worker, purchase(merchant, { pay_method: method, amount: '1100', tax: '100' }));
    jobs.push({ method, pay, who: shopper(method) });
  }
  const killAt = new Set();
  while (killAt.size < kills) killAt.add(1 + Math.floor(rand() * (n - 2)));
  let killed = 0;
  for (let i = 0; i < n; i += 4) {
    const batch = jobs.slice(i, i + 4);
    const pays = batch.map((j) => api(ctx.worker, 'POST', `/pay/${j.pay}/${j.method}`, j.who.body).then((r) => {
      if (r.status >= 500 || r.status === 202) j.interrupted = true;
      return r;
    }, () => { j.interrupted = true; return null; }));
    if ([...killAt].some((k) => k >= i && k < i + 4)) {
      // A random moment inside the batch's requests.
      await new Promise((r) => setTimeout(r, Math.floor(rand() * 120)));
      const stateDir = ctx.worker.stateDir;
      await ctx.worker.kill();
      killed += 1;
      await Promise.all(pays);
      ctx.worker = await startWorker({ stateDir, vars: vars(ctx), script: ctx.script });
      ctx.onRestart?.(ctx.worker);
    } else {
      await Promise.all(pays);
    }
  }
  // Interrupted calls' leases run out; the sweep reconciles them.
  const until = Date.now() + 90_000;
  for (;;) {
    await advanceClock(ctx.worker, 150);
    const open = [];
    for (const j of jobs) {
      const s = (await signedApi(ctx.worker, 'GET', `/v1/payments/${j.pay}`)).json.status;
      if (['processing', 'reconciling'].includes(s)) open.push(j.pay);
    }
    if (!open.length || Date.now() > until) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const disagreements = await ledgerCheck(ctx.worker, jobs);
  // Every event reached the merchant (at least once; the same id when repeated).
  const received = new Set(merchant.accepted().map((w) => w.id));
  const lost = [];
  const until2 = Date.now() + 60_000;
  for (;;) {
    lost.length = 0;
    for (const j of jobs) {
      const events = (await signedApi(ctx.worker, 'GET', `/v1/payments/${j.pay}/events`)).json.data.filter((e) => e.type !== 'payment.result');
      for (const e of events) if (!merchant.accepted().some((w) => w.id === e.id)) lost.push(`${j.pay} ${e.type} ${e.id} (${e.state})`);
    }
    if (!lost.length || Date.now() > until2) break;
    await advanceClock(ctx.worker, 600);
    await new Promise((r) => setTimeout(r, 500));
  }
  const ids = merchant.accepted().map((w) => w.id);
  const interrupted = jobs.filter((j) => j.interrupted).length;
  return { n, killed, interrupted, disagreements, lost, duplicates: ids.length - new Set(ids).size, received: received.size };
}
