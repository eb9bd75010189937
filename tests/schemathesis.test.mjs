// The OpenAPI document is true: schemathesis (PyPI) generates requests for
// every documented operation, signed as PRODUCT §4 says, and checks every
// answer against the document (status codes, content types, schemas, no
// server errors).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT, startWorker } from './lib/harness.mjs';

const VENV = join(ROOT, 'tests', '.venv');
const PY = join(VENV, 'bin', 'python');

/** tests/.venv with tests/requirements.txt, made only when missing or stale. */
export function ensureVenv() {
  if (!existsSync(PY)) {
    const made = spawnSync('python3', ['-m', 'venv', VENV], { stdio: 'inherit' });
    assert.equal(made.status, 0, 'python3 -m venv');
  }
  const check = spawnSync(PY, ['-m', 'pip', 'install', '-q', '--disable-pip-version-check', '-r', join(ROOT, 'tests', 'requirements.txt')], { stdio: 'inherit' });
  assert.equal(check.status, 0, 'pip install -r tests/requirements.txt');
}

let worker;
before(async () => {
  ensureVenv();
  worker = await startWorker();
});
after(async () => worker?.stop());

describe('OpenAPI conformance', () => {
  it('schemathesis finds no difference between the API and its document', () => {
    const r = spawnSync(PY, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', join(ROOT, 'tests', 'schemathesis', 'test_openapi.py')], {
      env: { ...process.env, KESSAI_BASE: worker.base },
      encoding: 'utf8',
      timeout: 600_000,
    });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`.slice(-6000));
    assert.match(r.stdout, /passed/);
  });
});
