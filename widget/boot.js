// Starts the hosted payment page. Not served as it is: the build bundles
// it with wasm-bindgen's glue (`--target web` output, `./widget.js`) into
// the page's one script, static/pkg/widget.js (`cargo xtask build`).
// The wasm's start function mounts the app on #app. The wasm is fetched
// with the Subresource Integrity hash the build produced (on #app, put
// there by the Worker): a changed file is refused by the browser.
import init from './widget.js';

const app = document.getElementById('app');
const integrity = app?.dataset.wasmIntegrity || undefined;

init({ module_or_path: fetch('/pkg/widget_bg.wasm', { integrity }) }).catch((err) => {
  console.error(err);
  if (!app) return;
  const p = document.createElement('p');
  p.className = 'loading';
  p.setAttribute('role', 'alert');
  p.textContent =
    'お支払い画面を表示できませんでした。ページを再読み込みするか、最新のブラウザでお試しください。' +
    ' / The payment page could not be shown. Reload the page or try an up-to-date browser.';
  app.replaceChildren(p);
});
