// Test harness: starts the real Worker under `wrangler dev` (workerd, local
// Durable Objects and D1 in a fresh temporary state directory), a test
// merchant server that verifies what it receives with the public
// `standardwebhooks` library and an independent hashcode implementation,
// and signed purchase forms as a merchant written from PRODUCT.md makes them.

import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { Webhook } from 'standardwebhooks';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const ARTIFACTS = join(ROOT, 'tests', 'artifacts');
mkdirSync(ARTIFACTS, { recursive: true });

export const SANDBOX = {
  merchant_id: '99999',
  service_id: '001',
  hashKey: 'kessai-sandbox-hash-key',
  webhookSecret: 'whsec_a2Vzc2FpLXNhbmRib3gtd2ViaG9vay1zZWNyZXQtMDE=',
};

export const PURCHASE_FIELDS = [
  'merchant_id', 'service_id', 'cust_code', 'order_id', 'item_id', 'item_name', 'amount', 'tax',
  'pay_method', 'pay_type', 'sales_mode', 'terminal_type', 'success_url', 'cancel_url', 'error_url',
  'pagecon_url', 'free1', 'free2', 'free3', 'request_date', 'limit_second',
];
export const RETURN_FIELDS = [
  'merchant_id', 'service_id', 'order_id', 'res_result', 'res_pay_method', 'res_tracking_id',
  'res_payment_date', 'res_err_code', 'res_date',
];

/** RFC 3986 percent-encoding: everything but A-Z a-z 0-9 - . _ ~ */
export function rfc3986(value) {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

/** PRODUCT §3.1 hashcode over the fields present, in the given order. */
export function hashcode(key, fields, order) {
  const canonical = order
    .filter((name) => Object.prototype.hasOwnProperty.call(fields, name))
    .map((name) => `${name}=${rfc3986(String(fields[name]))}`)
    .join('&');
  return createHmac('sha256', key).update(canonical, 'utf8').digest('hex');
}

/** `YYYYMMDDhhmmss` in JST of a Date. */
export function jst(date = new Date()) {
  const t = new Date(date.getTime() + 9 * 3600 * 1000);
  const p = (n) => String(n).padStart(2, '0');
  return `${t.getUTCFullYear()}${p(t.getUTCMonth() + 1)}${p(t.getUTCDate())}${p(t.getUTCHours())}${p(t.getUTCMinutes())}${p(t.getUTCSeconds())}`;
}

let orderSeq = 0;
export function orderId(prefix = 'ord') {
  orderSeq += 1;
  return `${prefix}-${process.pid}-${Date.now()}-${orderSeq}`;
}

/** Signed purchase fields for the sandbox merchant; `overrides` may set or delete (undefined) fields. */
export function purchase(merchant, overrides = {}, key = SANDBOX.hashKey) {
  const f = {
    merchant_id: SANDBOX.merchant_id,
    service_id: SANDBOX.service_id,
    cust_code: 'cust-001',
    order_id: orderId(),
    item_id: 'tea-200',
    item_name: '緑茶 200g',
    amount: '1100',
    tax: '100',
    pay_method: 'netcash',
    pay_type: 'one_time',
    sales_mode: 'auto',
    terminal_type: '',
    success_url: `${merchant.base}/success`,
    cancel_url: `${merchant.base}/cancel`,
    error_url: `${merchant.base}/error`,
    pagecon_url: `${merchant.base}/notify`,
    free1: 'memo & more',
    request_date: jst(),
    limit_second: '600',
  };
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete f[k];
    else f[k] = v;
  }
  const ordered = {};
  for (const name of PURCHASE_FIELDS) if (name in f) ordered[name] = f[name];
  for (const name of Object.keys(f)) if (!(name in ordered)) ordered[name] = f[name];
  ordered.hashcode = hashcode(key, ordered, PURCHASE_FIELDS);
  return ordered;
}

export function formBody(fields) {
  return new URLSearchParams(Object.entries(fields)).toString();
}

/** POSTs a purchase form; does not follow the redirect. */
export async function postPurchase(worker, fields, init = {}) {
  return fetch(`${worker.base}/link/purchase`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(init.headers ?? {}) },
    body: typeof fields === 'string' ? fields : formBody(fields),
    redirect: 'manual',
  });
}

/** Opens a checkout and returns its payment id. */
export async function openCheckout(worker, fields) {
  const res = await postPurchase(worker, fields);
  if (res.status !== 303) throw new Error(`purchase refused: ${res.status} ${await res.text()}`);
  const loc = res.headers.get('location');
  return loc.split('/').pop();
}

export async function api(worker, method, path, body) {
  const res = await fetch(`${worker.base}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, json, text, headers: res.headers };
}

// Ports for wrangler dev come from below Linux's ephemeral range (32768 and
// up): a port taken with listen(0) and released is free again for any
// outgoing connection to auto-bind before wrangler binds it, which once
// failed a CI run ("Address already in use", the inspector's socket). Below
// that range only an explicit bind can take it; those handed out here are
// never handed out twice.
const handedOut = new Set();
export async function freePort() {
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    if (handedOut.has(port)) continue;
    const srv = createServer();
    const ok = await new Promise((r) => {
      srv.once('error', () => r(false));
      srv.listen(port, '127.0.0.1', () => r(true));
    });
    if (!ok) continue;
    await new Promise((r) => srv.close(r));
    handedOut.add(port);
    return port;
  }
}

async function waitFor(url, ms, healthy = true, gaveUp = () => null) {
  const until = Date.now() + ms;
  let last;
  while (Date.now() < until) {
    const why = gaveUp();
    if (why) throw new Error(`${url} did not come up: ${why}`);
    try {
      const r = await fetch(url);
      if (r.ok || (!healthy && r.status >= 500 && r.status !== 503 && r.status !== 502)) return;
      last = `HTTP ${r.status}`;
    } catch (e) { last = e.message; }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not come up: ${last}`);
}

/**
 * Production secrets for a local run of the production build (`production:
 * true`): real-looking values, none of the published development ones.
 */
export const PRODUCTION_SECRETS = {
  NETCASH_API_SECRET: 'prod-test-netcash-0123456789abcdef',
  PREPAID_API_SECRET: 'prod-test-prepaid-0123456789abcdef',
  CYBERSOURCE_SHARED_SECRET: 'cHJvZC10ZXN0LWN5YmVyc291cmNlLXNlY3JldC0wMQ==',
  AU_API_SECRET: 'prod-test-au-0123456789abcdef',
  NP_API_SECRET: 'prod-test-np-0123456789abcdef',
  NP_NOTIFY_SECRET: 'whsec_cHJvZC10ZXN0LW5wLW5vdGlmeS1zZWNyZXQtMDE=',
  OPERATOR_TOKEN: 'prod-test-operator-token-0123456789',
  SUBSCRIPTION_SECRET: 'prod-test-subscription-secret-0123456789',
};

/**
 * Starts the built Worker under `wrangler dev` with fresh local state.
 * `production: true` runs the production build (`--env production`,
 * edge-worker/build-production, made by `cargo xtask test`) with
 * `PRODUCTION_SECRETS` unless `vars` says otherwise; `waitHealthy: false`
 * only waits until it answers at all.
 */
export async function startWorker({ vars = {}, stateDir, production = false, waitHealthy = true, script } = {}) {
  const persist = stateDir ?? mkdtempSync(join(tmpdir(), 'kessai-state-'));
  // A port taken between our check and wrangler's bind (by a process we do
  // not control) is the only start failure that another port fixes; that
  // one is tried again at once, at most twice, with fresh ports.
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startWorkerOnce({ vars, persist, production, waitHealthy, script });
    } catch (e) {
      if (!(e instanceof PortTaken) || attempt === 3) throw e;
    }
  }
}

class PortTaken extends Error {}
const PORT_TAKEN = /Address already in use|EADDRINUSE/;

async function startWorkerOnce({ vars, persist, production, waitHealthy, script }) {
  const port = await freePort();
  const inspector = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const allVars = production ? { ...PRODUCTION_SECRETS, ...vars } : {
    PUBLIC_BASE_URL: base,
    NETCASH_BASE_URL: `${base}/sandbox/netcash`,
    NETCASH_NOTIFY_URL: `${base}/provider/netcash/notify`,
    PREPAID_BASE_URL: `${base}/sandbox/prepaid`,
    CYBERSOURCE_BASE_URL: `${base}/sandbox/cybersource`,
    AU_BASE_URL: `${base}/sandbox/au`,
    NP_BASE_URL: `${base}/sandbox/np`,
    NP_NOTIFY_URL: `${base}/provider/np/notify`,
    PAGECON_TIMEOUT_MS: '1500',
    ...vars,
  };
  // `script` (e.g. build-bench/index.js) serves another build than wrangler.toml's `main`.
  const args = ['dev', ...(script ? [script] : []), ...(production ? ['--env', 'production'] : []), '--ip', '127.0.0.1', '--port', String(port), '--inspector-port', String(inspector),
    '--persist-to', persist, '--show-interactive-dev-session=false', '--log-level', 'warn'];
  for (const [k, v] of Object.entries(allVars)) if (v !== undefined) args.push('--var', `${k}:${v}`);
  const child = spawn(join(ROOT, 'node_modules', '.bin', 'wrangler'), args, {
    cwd: join(ROOT, 'edge-worker'),
    env: {
      ...process.env,
      PATH: `${join(ROOT, 'node_modules', '.bin')}:${process.env.PATH}`,
      WRANGLER_SEND_METRICS: 'false',
      CLOUDFLARE_CF_FETCH_ENABLED: 'false',
      // wrangler dev's local trace store (for its local explorer) writes
      // every invocation's spans to SQLite on the Worker's own thread; no
      // test reads it and production has no such thing. Off, /health costs
      // workerd 0.9 ms instead of 1.5.
      X_LOCAL_OBSERVABILITY: 'false',
      // The production build was made before the suites ran.
      KESSAI_PREBUILT: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let log = '';
  // One record of the process's end, for the start's wait, kill and stop
  // (a child killed by a signal keeps `exitCode` null, so that is no test).
  let gone = false;
  const exited = new Promise((r) => child.once('exit', () => { gone = true; r(); }));
  const signal = (sig) => { try { process.kill(-child.pid, sig); } catch { /* gone */ } };
  /** Kills workerd at once (SIGKILL), as a crash would: no graceful end. */
  const kill = async () => {
    if (!gone) signal('SIGKILL');
    await exited;
  };
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  try {
    await waitFor(`${base}/health`, 90_000, waitHealthy,
      () => (PORT_TAKEN.test(log) ? 'a port was taken before wrangler bound it' : gone ? 'wrangler exited' : null));
  } catch (e) {
    await kill();
    throw new (PORT_TAKEN.test(log) ? PortTaken : Error)(`${e.message}\n${log}`);
  }
  return {
    base,
    port,
    /** The process group of wrangler and workerd (CPU accounting in the bench). */
    pgid: child.pid,
    stateDir: persist,
    log: () => log,
    kill,
    async stop() {
      if (gone) return;
      signal('SIGTERM');
      const t = setTimeout(() => signal('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** Verifies a return form's hashcode the way a merchant does. */
export function verifyReturnForm(fields, key = SANDBOX.hashKey) {
  const values = {};
  for (const n of RETURN_FIELDS) values[n] = fields[n] ?? '';
  return hashcode(key, values, RETURN_FIELDS) === fields.hashcode;
}

/**
 * A test merchant: receives result notifications (verified with the
 * standardwebhooks library), answers them as told, receives the shopper
 * back on its success/cancel/error pages, and serves pages that
 * auto-submit purchase forms.
 */
export async function startMerchant({ secret = SANDBOX.webhookSecret } = {}) {
  const wh = new Webhook(secret);
  const m = {
    webhooks: [],
    webhookStatus: 200,
    notifications: [],
    returns: [],
    answer: 'OK,',
    delayMs: 0,
    pages: new Map(),
    base: '',
  };
  const server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    const url = new URL(req.url, 'http://x');
    if (req.method === 'POST' && url.pathname === '/notify') {
      let payload = null;
      let verified = false;
      let error = null;
      try {
        payload = wh.verify(body, req.headers);
        verified = true;
      } catch (e) { error = e.message; }
      m.notifications.push({ headers: { ...req.headers }, body, payload, verified, error });
      if (m.delayMs) await new Promise((r) => setTimeout(r, m.delayMs));
      res.writeHead(verified ? 200 : 401, { 'content-type': 'text/plain' });
      res.end(verified ? m.answer : 'NG,bad signature');
      return;
    }
    if (req.method === 'POST' && url.pathname === '/webhooks') {
      let payload = null;
      let verified = false;
      let error = null;
      try {
        payload = wh.verify(body, req.headers);
        verified = true;
      } catch (e) { error = e.message; }
      const status = verified ? m.webhookStatus : 401;
      m.webhooks.push({ id: req.headers['webhook-id'], headers: { ...req.headers }, payload, verified, error, status });
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status === 200 ? 'thanks' : 'down for maintenance');
      return;
    }
    if (req.method === 'POST' && ['/success', '/cancel', '/error'].includes(url.pathname)) {
      const fields = Object.fromEntries(new URLSearchParams(body));
      const verified = verifyReturnForm(fields);
      m.returns.push({ page: url.pathname.slice(1), fields, verified });
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><html><head><link rel="icon" href="data:,"><title>${url.pathname}</title></head><body>
        <h1 id="result">${url.pathname.slice(1)}</h1><p id="res-result">${fields.res_result}</p>
        <p id="verified">${verified ? 'verified' : 'NOT VERIFIED'}</p><p id="err">${fields.res_err_code ?? ''}</p></body></html>`);
      return;
    }
    if (req.method === 'GET' && url.pathname.startsWith('/shop/')) {
      const fields = m.pages.get(url.pathname.slice('/shop/'.length));
      if (!fields) { res.writeHead(404); res.end(); return; }
      const inputs = Object.entries(fields)
        .map(([k, v]) => `<input type="hidden" name="${k}" value="${String(v).replace(/&/g, '&amp;').replace(/"/g, '&quot;')}">`)
        .join('');
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>shop</title></head><body>
        <form id="f" method="post" action="${m.workerBase}/link/purchase">${inputs}<button>pay</button></form>
        <script>document.getElementById('f').submit()</script></body></html>`);
      return;
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  m.base = `http://127.0.0.1:${server.address().port}`;
  m.close = () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); });
  m.reset = () => {
    m.notifications.length = 0; m.returns.length = 0; m.webhooks.length = 0;
    m.answer = 'OK,'; m.delayMs = 0; m.webhookStatus = 200;
  };
  /** Webhooks this merchant accepted (answered 2xx), in arrival order. */
  m.accepted = () => m.webhooks.filter((w) => w.verified && w.status >= 200 && w.status < 300);
  return m;
}

/** A merchant API call signed per PRODUCT §4. `tamper` can break one part of the signature. */
export async function signedApi(worker, method, path, body, { key = SANDBOX.hashKey, merchantId = SANDBOX.merchant_id, headers = {}, tamper = {} } = {}) {
  const raw = body === undefined ? '' : (typeof body === 'string' ? body : JSON.stringify(body));
  const ts = tamper.timestamp ?? Math.floor(Date.now() / 1000);
  const signedPath = tamper.path ?? path;
  const signedBody = tamper.body ?? raw;
  const sig = 'v1=' + createHmac('sha256', key).update(`${ts}.${method}.${signedPath}.${signedBody}`).digest('hex');
  const h = { 'x-kessai-merchant': merchantId, 'x-kessai-timestamp': String(ts), 'x-kessai-signature': sig, ...headers };
  if (raw) h['content-type'] = 'application/json';
  for (const [k, v] of Object.entries(h)) if (v === undefined) delete h[k];
  const res = await fetch(`${worker.base}${path}`, { method, headers: h, body: raw || undefined });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, json, text, headers: res.headers };
}

/** Moves the sandbox clock forward and runs what became due. */
export async function advanceClock(worker, seconds) {
  const r = await api(worker, 'POST', '/__sandbox/clock', { advance_seconds: seconds });
  if (r.status !== 200) throw new Error(`clock: ${r.status} ${r.text}`);
  return r.json;
}

/** Waits until `check()` is truthy, polling. */
export async function eventually(check, { timeoutMs = 15000, everyMs = 100, what = 'condition' } = {}) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Sets the sandbox clock's business time (Unix seconds) and runs what became due. */
export async function setClock(worker, unixSeconds) {
  const r = await api(worker, 'POST', '/__sandbox/clock', { now: unixSeconds });
  if (r.status !== 200) throw new Error(`clock: ${r.status} ${r.text}`);
  return r.json;
}

/** POSTs a form as a browser does (no redirect followed): status, location, page. */
export async function postForm(url, fields) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
    redirect: 'manual',
  });
  return { status: res.status, location: res.headers.get('location'), html: await res.text(), headers: res.headers };
}

/** Unix seconds of a JST wall-clock time, e.g. jstTime('2027-05-03T10:00'). */
export function jstTime(local) {
  return Math.floor(Date.parse(`${local}:00+09:00`) / 1000);
}

/** Undoes our HTML escaping of attribute values. */
export function unescapeHtml(v) {
  return v.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** The hidden fields of a page's forms, by name. */
export function hiddenFields(html) {
  const fields = {};
  for (const [, k, v] of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) fields[k] = unescapeHtml(v);
  return fields;
}

/** An auto-submitted form (`#return-form`): its action and fields. */
export function returnForm(html) {
  const m = html.match(/<form id="return-form" method="post" action="([^"]+)"/);
  if (!m) throw new Error(`no return form in: ${html.slice(0, 400)}`);
  return { action: unescapeHtml(m[1]), fields: hiddenFields(html) };
}

/** Debian's headless Chromium, with the flags this machine needs (no background networking). */
export function launchChromium() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}
