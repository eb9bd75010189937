// Starts the payment administration tool (wasm-bindgen `--target web`
// output); its wasm's start function mounts the app on #admin.
import init from '/admin/pkg/admin.js';

init({ module_or_path: '/admin/pkg/admin_bg.wasm' }).catch((err) => {
  console.error(err);
  const root = document.getElementById('admin');
  if (!root) return;
  const p = document.createElement('p');
  p.setAttribute('role', 'alert');
  p.textContent = '管理ツールを表示できませんでした。再読み込みしてください。 / The administration tool could not start. Reload the page.';
  root.replaceChildren(p);
});
