// Starts the hosted payment page (wasm-bindgen `--target web` output).
// The wasm's start function mounts the app on #app.
import init from '/pkg/widget.js';

init({ module_or_path: '/pkg/widget_bg.wasm' }).catch((err) => {
  console.error(err);
  const app = document.getElementById('app');
  if (!app) return;
  const p = document.createElement('p');
  p.className = 'loading';
  p.setAttribute('role', 'alert');
  p.textContent =
    'お支払い画面を表示できませんでした。ページを再読み込みするか、最新のブラウザでお試しください。' +
    ' / The payment page could not be shown. Reload the page or try an up-to-date browser.';
  app.replaceChildren(p);
});
