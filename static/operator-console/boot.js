// Starts the operators' console (wasm-bindgen `--target web` output); its
// wasm's start function mounts the app on #operator.
import init from '/operator-console/pkg/operator.js';

init({ module_or_path: '/operator-console/pkg/operator_bg.wasm' }).catch((err) => {
  console.error(err);
  const root = document.getElementById('operator');
  if (root) root.textContent = 'コンソールを表示できませんでした。 / The console could not start.';
});
