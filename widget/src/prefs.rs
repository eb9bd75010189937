//! The shopper's language: `?lang=` wins, then the choice kept in
//! localStorage, then Japanese. Storage may be unavailable (private mode,
//! blocked): every failure is ignored.

use crate::i18n::Lang;

const STORAGE_KEY: &str = "kessai-link.lang";

/// The `lang` parameter of a query string (`?a=1&lang=en`).
pub fn lang_from_query(search: &str) -> Option<Lang> {
    search
        .trim_start_matches('?')
        .split('&')
        .find_map(|pair| pair.strip_prefix("lang="))
        .and_then(Lang::from_code)
}

/// The query string with its `lang` parameter set to `lang`, if it has one
/// (so a reload keeps the choice); `None` when there is nothing to change.
pub fn query_with_lang(search: &str, lang: Lang) -> Option<String> {
    let body = search.trim_start_matches('?');
    if !body.split('&').any(|p| p.starts_with("lang=")) {
        return None;
    }
    let pairs: Vec<String> = body
        .split('&')
        .map(|p| {
            if p.starts_with("lang=") {
                format!("lang={}", lang.code())
            } else {
                p.to_owned()
            }
        })
        .collect();
    Some(format!("?{}", pairs.join("&")))
}

/// The language to start in.
pub fn initial_lang() -> Lang {
    let Some(window) = web_sys::window() else {
        return Lang::Ja;
    };
    if let Some(lang) = window
        .location()
        .search()
        .ok()
        .and_then(|s| lang_from_query(&s))
    {
        return lang;
    }
    window
        .local_storage()
        .ok()
        .flatten()
        .and_then(|s| s.get_item(STORAGE_KEY).ok().flatten())
        .and_then(|code| Lang::from_code(&code))
        .unwrap_or(Lang::Ja)
}

/// Sets `<html lang>` (screen readers pick their voice from it).
pub fn apply_lang(lang: Lang) {
    if let Some(html) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = html.set_attribute("lang", lang.code());
    }
}

/// Keeps the shopper's choice for the next load.
pub fn remember_lang(lang: Lang) {
    let Some(window) = web_sys::window() else {
        return;
    };
    if let Ok(Some(storage)) = window.local_storage() {
        let _ = storage.set_item(STORAGE_KEY, lang.code());
    }
    let location = window.location();
    if let (Ok(search), Ok(path), Ok(history)) =
        (location.search(), location.pathname(), window.history())
    {
        if let Some(query) = query_with_lang(&search, lang) {
            let _ = history.replace_state_with_url(
                &wasm_bindgen::JsValue::NULL,
                "",
                Some(&format!("{path}{query}")),
            );
        }
    }
}

/// Sets the document title.
pub fn set_title(title: &str) {
    if let Some(document) = web_sys::window().and_then(|w| w.document()) {
        document.set_title(title);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    // Also run them in the browser under `cargo test --target wasm32-unknown-unknown`.
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn reads_lang_from_the_query() {
        assert_eq!(lang_from_query("?lang=en"), Some(Lang::En));
        assert_eq!(lang_from_query("?x=1&lang=ja"), Some(Lang::Ja));
        assert_eq!(lang_from_query("?lang=fr"), None);
        assert_eq!(lang_from_query("?xlang=en"), None);
        assert_eq!(lang_from_query(""), None);
    }

    #[test]
    fn rewrites_only_an_existing_lang_parameter() {
        assert_eq!(
            query_with_lang("?lang=en", Lang::Ja).as_deref(),
            Some("?lang=ja")
        );
        assert_eq!(
            query_with_lang("?a=1&lang=ja&b=2", Lang::En).as_deref(),
            Some("?a=1&lang=en&b=2")
        );
        assert_eq!(query_with_lang("?a=1", Lang::En), None);
        assert_eq!(query_with_lang("", Lang::En), None);
    }
}
