// Administration sign-in that holds (issue 11 §1, server side): passwords
// kept as PBKDF2-HMAC-SHA256 (100,000 iterations, per-user salt, Web
// Crypto), the older HMAC scheme replaced on the next sign-in; five failed
// sign-ins lock it for 15 minutes (429 with when to retry); sessions end
// after 30 minutes idle; sign-out everywhere.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { advanceClock, ROOT, startWorker } from './lib/harness.mjs';

let worker;
before(async () => {
  worker = await startWorker();
});
after(async () => {
  await worker?.stop();
});

const PASSWORD = 'kessai-sandbox-admin';

// The session's CSRF token, per cookie (given at sign-in).
const csrfOf = new Map();
async function admin(method, path, body, cookie = '') {
  const res = await fetch(`${worker.base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', 'x-requested-with': 'kessai-admin', 'x-csrf-token': csrfOf.get(cookie) ?? '', cookie },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const setCookie = res.headers.get('set-cookie');
  const json = await res.json().catch(() => null);
  const newCookie = setCookie ? setCookie.split(';')[0] : cookie;
  if (json?.csrf_token) csrfOf.set(newCookie, json.csrf_token);
  return { status: res.status, json, cookie: newCookie, headers: res.headers };
}
const login = (password = PASSWORD) => admin('POST', '/admin/api/login', { merchant_id: '99999', password });

/** The first user's stored password: on the merchant row until the first
 * sign-in makes it the user `admin` (an administrator). */
function storedHash(sql = "SELECT password_hash AS h FROM admin_users WHERE merchant_id = '99999' AND user_id = 'admin'") {
  const out = execFileSync(join(ROOT, 'node_modules', '.bin', 'wrangler'),
    ['d1', 'execute', 'DB', '--local', '--persist-to', worker.stateDir, '--json', '--command', sql], {
      cwd: join(ROOT, 'edge-worker'),
      env: { ...process.env, PATH: `${join(ROOT, 'node_modules', '.bin')}:${process.env.PATH}`, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', CI: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    }).toString();
  return JSON.parse(out)[0].results[0]?.h;
}

describe('administration sign-in', () => {
  it('the older HMAC password is replaced by PBKDF2-HMAC-SHA256 (100,000 iterations, its own salt) on sign-in, and still signs in', async () => {
    // Any administration request opens (and, for the sandbox, seeds) D1.
    assert.equal((await admin('GET', '/admin/api/me')).status, 401);
    assert.match(storedHash("SELECT admin_password_hash AS h FROM merchants WHERE merchant_id = '99999'"), /^[0-9a-f]{64}$/, 'the sandbox seed is the older scheme');
    assert.equal(storedHash(), undefined, 'no staff user yet');
    assert.equal((await login()).status, 200);
    assert.equal(storedHash("SELECT admin_password_hash AS h FROM merchants WHERE merchant_id = '99999'"), null, 'the merchant row keeps no password');
    const h = storedHash();
    assert.match(h, /^pbkdf2-sha256\$100000\$[0-9a-f]{32}\$[0-9a-f]{64}$/);
    assert.ok(!h.includes(PASSWORD));
    assert.equal((await login()).status, 200, 'the new hash verifies');
    assert.equal((await login('wrong')).status, 401);
    assert.equal(storedHash(), h, 'a failure changes nothing');
    assert.equal((await login()).status, 200, 'and a success clears the failure count');
  });

  it('five failed sign-ins lock it for 15 minutes: 429 with when to retry, even with the right password; then it works again', async () => {
    for (let i = 0; i < 5; i++) assert.equal((await login(`wrong-${i}`)).status, 401);
    const locked = await login();
    assert.equal(locked.status, 429);
    assert.equal(locked.json.error.code, 'sign_in_locked');
    assert.match(locked.json.error.message, /try again after \d{4}-\d{2}-\d{2} \d{2}:\d{2} JST/);
    assert.ok(Number(locked.headers.get('retry-after')) > 800);
    await advanceClock(worker, 15 * 60 + 5);
    assert.equal((await login()).status, 200);
    // A success starts the count again.
    for (let i = 0; i < 4; i++) assert.equal((await login(`wrong-${i}`)).status, 401);
    assert.equal((await login()).status, 200);
  });

  it('a session ends after 30 minutes idle, not 30 minutes after sign-in; sign-out everywhere ends every session', async () => {
    const a = (await login()).cookie;
    for (let i = 0; i < 3; i++) {
      await advanceClock(worker, 20 * 60);
      assert.equal((await admin('GET', '/admin/api/me', undefined, a)).status, 200, `used after ${(i + 1) * 20} minutes`);
    }
    await advanceClock(worker, 31 * 60);
    assert.equal((await admin('GET', '/admin/api/me', undefined, a)).status, 401, 'idle for 31 minutes');

    const b = (await login()).cookie;
    const c = (await login()).cookie;
    assert.equal((await admin('GET', '/admin/api/me', undefined, b)).status, 200);
    const out = await admin('POST', '/admin/api/logout-everywhere', {}, c);
    assert.equal(out.status, 200);
    assert.equal((await admin('GET', '/admin/api/me', undefined, b)).status, 401);
    assert.equal((await admin('GET', '/admin/api/me', undefined, c)).status, 401);
  });
});
