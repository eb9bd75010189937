// The monthly billing run at scale, shared by the test suite (a few hundred
// subscriptions: several queue pages) and the benchmark (10,000): seeds
// monthly au subscriptions, moves the sandbox clock onto the 1st, waits
// until no subscription is due, and compares with KDDI's sandbox ledger
// (every cycle charged once: duplicates must be 0).

import { readdirSync, readFileSync } from 'node:fs';
import { api, jstTime, setClock } from './harness.mjs';

/** CPU seconds (user + system) used so far by a process group. */
export function groupCpuSeconds(pgid) {
  const tick = 100; // USER_HZ on Linux
  let total = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // fields[2] is pgrp, [11] utime, [12] stime (after the command name).
      if (Number(fields[2]) === pgid) total += (Number(fields[11]) + Number(fields[12])) / tick;
    } catch { /* gone */ }
  }
  return total;
}

/**
 * Seeds `n` subscriptions (registered on `registered`, JST) and bills them on
 * the next 1st. Returns the figures of the run.
 */
export async function billingRun(worker, n, { prefix = `b${Date.now() % 1e8}`, registered = '2027-01-20T10:00', firstOf = '2027-02-01T00:00', timeoutMs = 900_000 } = {}) {
  await setClock(worker, jstTime(registered));
  const batch = 250;
  const jobs = [];
  for (let i = 0; i * batch < n; i += 1) jobs.push(Math.min(batch, n - i * batch));
  // Two seeding requests at a time (each seeds `batch` subscriptions).
  let next = 0;
  const seeders = Array.from({ length: 2 }, async () => {
    while (next < jobs.length) {
      const j = next++;
      const r = await api(worker, 'POST', '/__sandbox/subscriptions', { prefix: `${prefix}x${j}`, count: jobs[j], amount: 500 });
      if (r.status !== 201) throw new Error(`seeding: ${r.status} ${r.text}`);
    }
  });
  await Promise.all(seeders);
  const before = await api(worker, 'GET', '/sandbox/au/ledger');
  const cpu0 = groupCpuSeconds(worker.pgid);
  const t0 = performance.now();
  await setClock(worker, jstTime(firstOf));
  let status;
  for (;;) {
    status = (await api(worker, 'GET', '/__sandbox/subscriptions')).json;
    if (status.due === 0 && status.charges_open === 0) break;
    if (performance.now() - t0 > timeoutMs) throw new Error(`billing run not finished: ${JSON.stringify(status)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  const wall = (performance.now() - t0) / 1000;
  const cpu = groupCpuSeconds(worker.pgid) - cpu0;
  const after = (await api(worker, 'GET', '/sandbox/au/ledger')).json;
  return {
    n,
    wall,
    perSecond: n / wall,
    cpuMsPerSubscription: (cpu * 1000) / n,
    charged: after.charged - before.json.charged,
    duplicates: after.duplicates,
    status,
  };
}
