// Payment-page integrity (issue 12 §6; PCI DSS 6.4.3 / 11.6.1): the hosted
// page's scripts, wasm and stylesheet carry the Subresource Integrity hashes
// the build produced (static/pkg/integrity.json), what is served equals
// them, a changed file is refused by the browser, and CSP violation reports
// are recorded for operators.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { api, launchChromium, openCheckout, purchase, ROOT, startMerchant, startWorker } from './lib/harness.mjs';

let worker;
let merchant;
const built = JSON.parse(readFileSync(join(ROOT, 'static/pkg/integrity.json'), 'utf8'));
const OPERATOR = { authorization: 'Bearer kessai-sandbox-operator' };

before(async () => {
  merchant = await startMerchant();
  worker = await startWorker();
});
after(async () => {
  await worker?.stop();
  await merchant?.close();
});

// A checkout opened in Chromium with `asset` changed on the way (after
// the Worker, so only the page's integrity hashes can stop it).
async function pageWithChanged(asset, change) {
  const pay = await openCheckout(worker, purchase(merchant));
  const browser = await launchChromium();
  const page = await browser.newPage();
  const console = [];
  page.on('console', (m) => console.push(m.text()));
  await page.route(`**${asset}`, async (route) => {
    const original = await route.fetch();
    await route.fulfill({ response: original, body: change(Buffer.from(await original.body())) });
  });
  await page.goto(`${worker.base}/pay/${pay}`);
  return { browser, page, console };
}

const sri = (bytes) => `sha384-${createHash('sha384').update(bytes).digest('base64')}`;

describe('payment-page integrity', () => {
  it('the build hashed every script the page runs, the wasm and the stylesheet; what the Worker serves has exactly those hashes', async () => {
    assert.deepEqual(Object.keys(built).sort(), ['/autosubmit.js', '/pkg/pay.css', '/pkg/texts.txt', '/pkg/widget.js', '/pkg/widget_bg.wasm']);
    for (const [path, hash] of Object.entries(built)) {
      const r = await fetch(`${worker.base}${path}`);
      assert.equal(r.status, 200, path);
      assert.equal(sri(Buffer.from(await r.arrayBuffer())), hash, `${path} as served`);
    }
  });

  it('the page names each hash (integrity attributes, the hashes of the wasm and the text pack for its script) and reports CSP violations', async () => {
    const pay = await openCheckout(worker, purchase(merchant));
    const res = await fetch(`${worker.base}/pay/${pay}`);
    const html = await res.text();
    assert.ok(html.includes(`<script type="module" src="/pkg/widget.js" integrity="${built['/pkg/widget.js']}">`), html);
    assert.ok(html.includes(`<link rel="stylesheet" href="/pkg/pay.css" integrity="${built['/pkg/pay.css']}">`));
    assert.ok(html.includes(`data-wasm-integrity="${built['/pkg/widget_bg.wasm']}"`));
    assert.ok(html.includes(`data-texts-integrity="${built['/pkg/texts.txt']}"`));
    const csp = res.headers.get('content-security-policy');
    assert.match(csp, /script-src 'self' 'wasm-unsafe-eval';/);
    assert.match(csp, /report-uri \/csp-report; report-to csp/);
    assert.equal(res.headers.get('reporting-endpoints'), 'csp="/csp-report"');
    // Only these scripts: the inventory of ARCHITECTURE.md.
    const scripts = [...html.matchAll(/<script[^>]*src="([^"]+)"/g)].map((m) => m[1]);
    assert.deepEqual(scripts, ['/pkg/widget.js']);
  });

  for (const [asset, change] of [
    // Still valid JavaScript: only the integrity check can stop it.
    ['/pkg/widget.js', (body) => Buffer.concat([body, Buffer.from('\n// changed on the way\n')])],
    ['/pkg/widget_bg.wasm', (body) => { const b = Buffer.from(body); b[b.length - 1] ^= 1; return b; }],
  ]) {
    it(`a changed ${asset} is refused by the browser for its integrity: the app never runs`, async () => {
      const { browser, page, console } = await pageWithChanged(asset, change);
      try {
        await new Promise((r) => setTimeout(r, 1500));
        assert.equal(await page.locator('#pay-button').count(), 0, 'the changed app never ran');
        assert.ok(console.some((t) => /integrity/i.test(t)), console.join('\n'));
      } finally {
        await browser.close();
      }
    });
  }

  it('the text pack (English, the error messages) is not fetched until the shopper touches the page; then it comes with its hash, and English works', async () => {
    const pay = await openCheckout(worker, purchase(merchant));
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 360, height: 740 } });
      const asked = [];
      page.on('request', (r) => asked.push(new URL(r.url()).pathname));
      await page.goto(`${worker.base}/pay/${pay}`);
      await page.locator('#pay-button:not([disabled])').waitFor();
      await new Promise((r) => setTimeout(r, 700));
      assert.ok(!asked.includes('/pkg/texts.txt'), `payable without the pack: ${asked.join(' ')}`);
      await page.locator('#lang-switch').click();
      await page.locator('html[lang="en"]').waitFor({ state: 'attached' });
      await page.locator('#pay-button', { hasText: /^Pay ¥/ }).waitFor();
      assert.equal(asked.filter((p) => p === '/pkg/texts.txt').length, 1, asked.join(' '));
      assert.equal(await page.locator('#lang-switch').textContent(), '日本語');
    } finally {
      await browser.close();
    }
  });

  it('a changed text pack is refused for its integrity: the page stays in Japanese and payable', async () => {
    const { browser, page, console } = await pageWithChanged('/pkg/texts.txt', (body) => Buffer.from(body.toString('utf8').replaceAll('Payment', 'Pwned')));
    try {
      await page.locator('#pay-button:not([disabled])').waitFor();
      await page.locator('#lang-switch').click();
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(await page.evaluate(() => document.documentElement.lang), 'ja');
      assert.ok(!(await page.content()).includes('Pwned'));
      assert.ok(await page.locator('#pay-button:not([disabled])').count(), 'still payable');
      assert.ok(console.some((t) => /integrity/i.test(t)), console.join('\n'));
    } finally {
      await browser.close();
    }
  });

  it('what is being paid is in the HTML before the wasm runs (merchant, item, amount), and the inline session cannot close its element', async () => {
    const pay = await openCheckout(worker, purchase(merchant, { item_name: '緑茶 </script><script>alert(1)</script>', amount: '12345', tax: '0' }));
    const html = await (await fetch(`${worker.base}/pay/${pay}`)).text();
    assert.match(html, /<p class="merchant">Kessai Sandbox Shop<\/p>/);
    assert.match(html, /<h1 class="item">緑茶 &lt;\/script&gt;&lt;script&gt;alert\(1\)&lt;\/script&gt;<\/h1>/);
    assert.match(html, /<span class="price">¥12,345<\/span>/);
    const block = html.match(/<script type="application\/json" id="session">(.*?)<\/script>/s);
    assert.ok(block, 'the session is in the page');
    assert.ok(!block[1].includes('<'), 'no "<" inside the data block');
    assert.equal(JSON.parse(block[1]).item_name, '緑茶 </script><script>alert(1)</script>');
    assert.deepEqual([...html.matchAll(/<script[^>]*src="([^"]+)"/g)].map((m) => m[1]), ['/pkg/widget.js'], 'no injected script');
  });

  it('CSP violation reports are recorded, bounded, and listed for operators only', async () => {
    const report = { 'csp-report': { 'document-uri': `${worker.base}/pay/x`, 'violated-directive': 'script-src', 'blocked-uri': 'https://evil.example/x.js' } };
    const r = await fetch(`${worker.base}/csp-report`, { method: 'POST', headers: { 'content-type': 'application/csp-report' }, body: JSON.stringify(report) });
    assert.equal(r.status, 204);
    const modern = [{ type: 'csp-violation', body: { documentURL: `${worker.base}/pay/y`, effectiveDirective: 'connect-src', blockedURL: 'https://evil.example/beacon' } }];
    assert.equal((await fetch(`${worker.base}/csp-report`, { method: 'POST', headers: { 'content-type': 'application/reports+json' }, body: JSON.stringify(modern) })).status, 204);
    assert.equal((await fetch(`${worker.base}/csp-report`, { method: 'POST', body: 'nonsense' })).status, 400);
    assert.equal((await fetch(`${worker.base}/csp-report`, { method: 'POST', body: JSON.stringify({ x: 'y'.repeat(20000) }) })).status, 413);
    assert.equal((await api(worker, 'GET', '/operator/csp-reports')).status, 401);
    const list = await fetch(`${worker.base}/operator/csp-reports`, { headers: OPERATOR });
    const data = (await list.json()).data;
    assert.ok(data.some((d) => d.blocked_uri === 'https://evil.example/x.js' && d.directive === 'script-src'));
    assert.ok(data.some((d) => d.blocked_uri === 'https://evil.example/beacon' && d.directive === 'connect-src'));
  });
});
