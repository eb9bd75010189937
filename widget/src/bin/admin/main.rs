//! The payment administration tool (`/admin`, issue 11): a second Yew app,
//! its own wasm (`static/admin/pkg/`), outside the hosted page's weight
//! budget. It speaks only to `/admin/api/` (`api.rs`), keeps its view and
//! search in the URL's fragment (`#/payments?status=paid`, `#/payments/{id}`,
//! `#/webhooks`, `#/settings`, `#/audit`), and every text is in Japanese
//! (default) and English (`i18n.rs`).

mod api;
mod i18n;
mod views;

#[cfg(test)]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

fn main() {
    let Some(root) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.get_element_by_id("admin")) else {
        return;
    };
    root.set_inner_html("");
    yew::Renderer::<views::App>::with_root(root).render();
}
