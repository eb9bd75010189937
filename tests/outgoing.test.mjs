// Outgoing requests (PRODUCT §10, issue 9): notifications, webhooks and
// provider calls never follow redirects and read bounded answers. Shown on
// the result notification: a merchant whose `pagecon_url` redirects to a
// URL that would accept, or answers `OK,` followed by more than 64 KiB,
// has not answered (a NET CASH payment then needs a refund), and the
// redirect's target is never asked.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { api, openCheckout, purchase, startMerchant, startWorker } from './lib/harness.mjs';

let worker;
let merchant;
let other;
const hits = [];
before(async () => {
  merchant = await startMerchant();
  // A second server on an allowed origin (127.0.0.1, any port).
  other = createServer(async (req, res) => {
    for await (const _ of req) { /* drain */ }
    hits.push(req.url);
    if (req.url === '/redirect') {
      res.writeHead(302, { location: `http://127.0.0.1:${other.address().port}/target` });
      res.end('OK,');
    } else if (req.url === '/target') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('OK,');
    } else if (req.url === '/huge') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('OK,');
      res.end('x'.repeat(200 * 1024));
    } else if (req.url === '/small') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('OK,' + 'x'.repeat(60 * 1024));
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise((r) => other.listen(0, '127.0.0.1', r));
  worker = await startWorker();
});
after(async () => {
  await worker?.stop();
  await merchant?.close();
  await new Promise((r) => { other?.closeAllConnections?.(); other?.close(r); });
});

async function payWithPagecon(path, id) {
  const pay = await openCheckout(worker, purchase(merchant, { pagecon_url: `http://127.0.0.1:${other.address().port}${path}` }));
  const r = await api(worker, 'POST', `/pay/${pay}/netcash`, { netcash_id: id });
  assert.equal(r.status, 200, r.text);
  return r.json.status;
}

describe('outgoing requests', () => {
  it('never follow a redirect', async () => {
    hits.length = 0;
    assert.equal(await payWithPagecon('/redirect', 'REDI1234RECT5678'), 'refund_required');
    assert.deepEqual(hits, ['/redirect'], 'the redirect target was never asked');
  });

  it('read at most 64 KiB of an answer: a larger one is no answer', async () => {
    hits.length = 0;
    assert.equal(await payWithPagecon('/huge', 'HUGE1234BODY5678'), 'refund_required');
    assert.deepEqual(hits, ['/huge']);
    // An answer within the bound is read as before.
    assert.equal(await payWithPagecon('/small', 'SMAL1234BODY5678'), 'paid');
  });
});
