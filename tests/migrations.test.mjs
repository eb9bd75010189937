// D1 migrations (issue 9): the schema lives in edge-worker/migrations/. The
// Worker applies pending migrations itself, recording them in wrangler's
// `d1_migrations` table, so `wrangler d1 migrations apply` (ahead of a
// deploy) and the Worker agree: a fresh database gets the same schema
// either way, and a database made by the build before migrations (its
// runtime schema, edge-worker/fixtures/schema-before-migrations.sql) is
// migrated in place, keeping its rows.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT, postPurchase, purchase, startMerchant, startWorker } from './lib/harness.mjs';

function wrangler(args) {
  return execFileSync(join(ROOT, 'node_modules', '.bin', 'wrangler'), args, {
    cwd: join(ROOT, 'edge-worker'),
    env: { ...process.env, PATH: `${join(ROOT, 'node_modules', '.bin')}:${process.env.PATH}`, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', CI: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  }).toString();
}

function query(persist, sql) {
  const out = wrangler(['d1', 'execute', 'DB', '--local', '--persist-to', persist, '--json', '--command', sql]);
  return JSON.parse(out)[0].results;
}

/** The schema: every table and index, as SQLite keeps its SQL. */
function schema(persist) {
  return query(persist, "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' ORDER BY type, name");
}

function applied(persist) {
  return query(persist, 'SELECT name FROM d1_migrations ORDER BY id').map((r) => r.name);
}

const MIGRATIONS = ['0001_initial.sql', '0002_merchant_suspensions.sql', '0003_csp_reports.sql', '0004_merchant_contracts.sql', '0005_operator_audit.sql', '0006_admin_lockouts.sql', '0007_subscriptions.sql', '0008_admin_staff.sql'];

/** Starts the Worker on a state, makes it use D1 (a purchase request), stops it. */
async function useWorker(persist, check) {
  const merchant = await startMerchant();
  const worker = await startWorker({ stateDir: persist });
  try {
    const r = await postPurchase(worker, purchase(merchant));
    assert.equal(r.status, 303, await r.text());
    if (check) await check(worker);
  } finally {
    await worker.stop();
    await merchant.close();
  }
}

describe('D1 migrations', () => {
  let fresh;

  it('a fresh database: the Worker applies the migrations and records them as wrangler does', async () => {
    const persist = mkdtempSync(join(tmpdir(), 'kessai-mig-'));
    await useWorker(persist);
    fresh = schema(persist);
    assert.deepEqual(applied(persist), MIGRATIONS);
    const tables = fresh.filter((r) => r.type === 'table').map((r) => r.name);
    assert.ok(tables.includes('merchant_suspensions'));
    assert.ok(tables.includes('idempotency_keys'));
    assert.ok(!tables.includes('idempotency'), 'the unused table is gone');
    // wrangler agrees that nothing is pending.
    assert.match(wrangler(['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', persist]), /No migrations to apply/);
    assert.deepEqual(applied(persist), MIGRATIONS);
  });

  it('`wrangler d1 migrations apply` makes the same schema, and the Worker then applies nothing again', async () => {
    const persist = mkdtempSync(join(tmpdir(), 'kessai-mig-'));
    wrangler(['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', persist]);
    assert.deepEqual(applied(persist), MIGRATIONS);
    assert.deepEqual(schema(persist), fresh);
    await useWorker(persist);
    assert.deepEqual(applied(persist), MIGRATIONS);
    assert.deepEqual(schema(persist), fresh);
  });

  it('a database made by the build before migrations is migrated in place and keeps its rows', async () => {
    const persist = mkdtempSync(join(tmpdir(), 'kessai-mig-'));
    wrangler(['d1', 'execute', 'DB', '--local', '--persist-to', persist, '--file', join(ROOT, 'edge-worker', 'fixtures', 'schema-before-migrations.sql')]);
    query(persist, `INSERT INTO merchants (merchant_id, service_id, name, hash_keys, webhook_secrets, origins, methods)
      VALUES ('10077', '001', 'Old Shop', '["old-key"]', '["whsec_a2Vzc2FpLXNhbmRib3gtd2ViaG9vay1zZWNyZXQtMDE="]', '["http://127.0.0.1"]', '["netcash"]')`);
    query(persist, `INSERT INTO idempotency (merchant_id, idem_key, request_hash, created_at) VALUES ('10077', 'k', 'h', 1)`);
    await useWorker(persist, async (worker) => {
      const r = await fetch(`${worker.base}/operator/merchants/10077/001`, { headers: { authorization: 'Bearer kessai-sandbox-operator' } });
      const m = await r.json();
      assert.equal(m.name, 'Old Shop');
      assert.equal(m.status, 'active');
      const ok = await postPurchase(worker, purchase({ base: 'http://127.0.0.1:4000' }, { merchant_id: '10077' }, 'old-key'));
      assert.equal(ok.status, 303, 'the old merchant still takes purchases');
    });
    assert.deepEqual(applied(persist), MIGRATIONS);
    assert.deepEqual(schema(persist), fresh);
  });
});
