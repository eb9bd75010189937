// The README's merchant examples work: the Python signed-form example and
// the shell hashcode one produce requests the real Worker accepts.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT, SANDBOX, hashcode, PURCHASE_FIELDS, postPurchase, startMerchant, startWorker } from './lib/harness.mjs';

let worker;
let merchant;
before(async () => {
  merchant = await startMerchant();
  worker = await startWorker();
});
after(async () => {
  await worker?.stop();
  await merchant?.close();
});

function formOf(html) {
  const fields = {};
  for (const [, k, v] of html.matchAll(/name="([^"]+)" value="([^"]*)"/g)) fields[k] = v.replace(/&amp;/g, '&').replace(/&quot;/g, '"');
  return fields;
}

describe('README examples', () => {
  it('examples/purchase_form.py makes a purchase form the Worker accepts', async () => {
    const html = execFileSync('python3', [join(ROOT, 'examples/purchase_form.py')], {
      env: { ...process.env, KESSAI_BASE: worker.base, SHOP_BASE: merchant.base },
    }).toString();
    assert.match(html, new RegExp(`action="${worker.base}/link/purchase"`));
    const res = await postPurchase(worker, formOf(html));
    assert.equal(res.status, 303, await res.text());
  });

  it('the README shell example computes the same hashcode as our merchant code', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const block = readme.match(/```sh\n(# hashcode-example[\s\S]*?)```/)[1];
    const out = execFileSync('bash', ['-c', block]).toString().trim().split('\n').pop();
    const canonical = readme.match(/canonical='([^']+)'/)[1];
    const fields = Object.fromEntries(canonical.split('&').map((p) => p.split('=')).map(([k, v]) => [k, decodeURIComponent(v)]));
    assert.equal(out, hashcode(SANDBOX.hashKey, fields, PURCHASE_FIELDS));
  });
});
