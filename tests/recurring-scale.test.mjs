// The monthly billing run at a size that fits CI (issue 10, "exactly once
// per cycle, at scale"): a few hundred subscriptions paged through the
// billing Queue in pages of 100, then the same month again with the Worker
// killed in the middle of a run and restarted on the same state: the next
// sweep finishes what the dead run left, and KDDI's sandbox ledger shows
// every subscription charged exactly once per cycle. `cargo xtask bench`
// runs the same with 10,000 subscriptions.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, advanceClock, eventually, jstTime, setClock, startWorker } from './lib/harness.mjs';
import { billingRun } from './lib/billing.mjs';

let worker;

before(async () => {
  worker = await startWorker();
});
after(async () => {
  await worker?.stop();
});

describe('the billing run at scale', () => {
  it('bills 250 monthly subscriptions once each through the queue (three pages)', async () => {
    const run = await billingRun(worker, 250, { prefix: 'scaleA', registered: '2027-01-20T10:00', firstOf: '2027-02-01T00:00' });
    assert.equal(run.charged, 250);
    assert.equal(run.duplicates, 0);
    assert.equal(run.status.due, 0);
    // A doubled cron: nothing more is charged.
    await advanceClock(worker, 0);
    await advanceClock(worker, 0);
    await new Promise((r) => setTimeout(r, 2000));
    const ledger = (await api(worker, 'GET', '/sandbox/au/ledger')).json;
    assert.equal(ledger.charged, 250);
    assert.equal(ledger.duplicates, 0);
  });

  it('a run killed halfway is finished by the next sweep after a restart, charging nobody twice', async () => {
    await setClock(worker, jstTime('2027-03-01T00:00'));
    const start = (await api(worker, 'GET', '/sandbox/au/ledger')).json.charged;
    // Kill it while the March run is under way.
    await eventually(async () => (await api(worker, 'GET', '/sandbox/au/ledger')).json.charged > start, { timeoutMs: 60000, everyMs: 20, what: 'the run to start' });
    await worker.kill();
    worker = await startWorker({ stateDir: worker.stateDir });
    const mid = (await api(worker, 'GET', '/__sandbox/subscriptions')).json;
    // Messages that were queued in the dead process are gone; the rows stay
    // due and are queued again once their queueing is older than 120 s.
    // A try cut off at KDDI is reconciled once its 120 s lease ran out (asked
    // by its key, sent again with it if KDDI never saw it); its cycle is
    // looked at again 5 minutes later.
    await advanceClock(worker, 180);
    await eventually(async () => (await api(worker, 'GET', '/__sandbox/subscriptions')).json.due === 0, { timeoutMs: 300000, everyMs: 250, what: 'the run to finish' });
    await advanceClock(worker, 360);
    const done = await eventually(async () => {
      const s = (await api(worker, 'GET', '/__sandbox/subscriptions')).json;
      return s.due === 0 && s.charges_open === 0 && s;
    }, { timeoutMs: 120000, everyMs: 250, what: 'every charge settled' });
    const ledger = (await api(worker, 'GET', '/sandbox/au/ledger')).json;
    assert.equal(ledger.charged, 500, `all 250 charged in March too (${mid.due} were still due after the restart)`);
    assert.equal(ledger.duplicates, 0);
    // Our books agree with KDDI's.
    assert.equal(done.charges_paid, 500);
  });
});
