//! A small JSON reader for the page's few answers.
//!
//! The page only reads a handful of small objects; `serde_json` and serde's
//! derived visitors cost several times this module in the shipped wasm, and
//! a parser of our own costs more than asking the browser: the text is read
//! by `JSON.parse` and turned into a [`Json`] tree. Numbers are integers
//! only (amounts are whole yen, times Unix seconds): a fraction, or an
//! integer a JavaScript number does not hold exactly, reads as
//! [`Json::NotInt`], which no field accepts.

#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Int(i64),
    /// A number that is not an integer we can hold.
    NotInt,
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

/// Nesting limit (the answers are two or three levels deep).
const MAX_DEPTH: u32 = 32;

impl Json {
    /// Parses a whole document; `None` on any syntax error. The browser's
    /// `JSON.parse` reads it (no parser of our own in the wasm).
    pub fn parse(text: &str) -> Option<Json> {
        from_js(&js_sys::JSON::parse(text).ok()?, 0)
    }

    /// A member of an object (`Null` when absent, so optional fields read
    /// the same whether missing or null).
    pub fn get(&self, key: &str) -> &Json {
        match self {
            Json::Obj(members) => members
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v)
                .unwrap_or(&Json::Null),
            _ => &Json::Null,
        }
    }

    pub fn str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn int(&self) -> Option<i64> {
        match self {
            Json::Int(n) => Some(*n),
            _ => None,
        }
    }

    pub fn bool(&self) -> Option<bool> {
        match self {
            Json::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn arr(&self) -> Option<&[Json]> {
        match self {
            Json::Arr(a) => Some(a),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        *self == Json::Null
    }
}

/// The largest integer a JavaScript number holds exactly.
const MAX_SAFE: f64 = 9_007_199_254_740_991.0;

fn from_js(v: &wasm_bindgen::JsValue, depth: u32) -> Option<Json> {
    use wasm_bindgen::JsCast;
    if depth > MAX_DEPTH {
        return None;
    }
    if v.is_null() {
        return Some(Json::Null);
    }
    if let Some(b) = v.as_bool() {
        return Some(Json::Bool(b));
    }
    if let Some(n) = v.as_f64() {
        return Some(if n.fract() == 0.0 && n.abs() <= MAX_SAFE { Json::Int(n as i64) } else { Json::NotInt });
    }
    if let Some(s) = v.as_string() {
        return Some(Json::Str(s));
    }
    if js_sys::Array::is_array(v) {
        let items: &js_sys::Array = v.unchecked_ref();
        return items.iter().map(|x| from_js(&x, depth + 1)).collect::<Option<Vec<_>>>().map(Json::Arr);
    }
    js_sys::Object::entries(v.unchecked_ref())
        .iter()
        .map(|e| {
            let e: js_sys::Array = e.unchecked_into();
            Some((e.get(0).as_string()?, from_js(&e.get(1), depth + 1)?))
        })
        .collect::<Option<Vec<_>>>()
        .map(Json::Obj)
}

#[cfg(test)]
mod tests {
    use super::*;
    // Also run them in the browser under `cargo test --target wasm32-unknown-unknown`.
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn reads_documents() {
        let v = Json::parse(r#" {"a":[1,-2,{"b":null}],"s":"x\"\\\/\n\u00e9\ud83d\ude00日本","t":true,"f":false,"n":0} "#).unwrap();
        assert_eq!(v.get("a").arr().unwrap()[1], Json::Int(-2));
        assert!(v.get("a").arr().unwrap()[2].get("b").is_null());
        assert_eq!(v.get("s").str(), Some("x\"\\/\né😀日本"));
        assert_eq!(v.get("t").bool(), Some(true));
        assert_eq!(v.get("n").int(), Some(0));
        assert!(v.get("missing").is_null());
        assert_eq!(Json::parse("[]"), Some(Json::Arr(vec![])));
        assert_eq!(Json::parse("{}"), Some(Json::Obj(vec![])));
    }

    #[test]
    fn numbers_are_integers_only() {
        assert_eq!(Json::parse("1.5"), Some(Json::NotInt));
        assert_eq!(Json::parse("1e400"), Some(Json::NotInt));
        assert_eq!(Json::parse("9007199254740993"), Some(Json::NotInt));
        assert_eq!(Json::parse("-9007199254740991"), Some(Json::Int(-9_007_199_254_740_991)));
        assert_eq!(Json::parse("99999999999999999999"), Some(Json::NotInt));
        assert_eq!(Json::parse("1790000000"), Some(Json::Int(1_790_000_000)));
    }

    #[test]
    fn refuses_bad_syntax() {
        for bad in [
            "",
            "{",
            "[1,]",
            "{\"a\":1,}",
            "{a:1}",
            "01",
            "-",
            "1.",
            "1e",
            "\"abc",
            "\"\\x\"",
            "\"\u{1}\"",
            "tru",
            "nul",
            "[1] 2",
            "{\"a\" 1}",
            "[1 2]",
        ] {
            assert_eq!(Json::parse(bad), None, "{bad:?}");
        }
        let deep = "[".repeat(100) + &"]".repeat(100);
        assert_eq!(Json::parse(&deep), None);
        // A lone surrogate is the replacement character (as the browser
        // turns it into UTF-8), never a broken string.
        assert_eq!(Json::parse("\"\\ud800\"").unwrap().str(), Some("\u{fffd}"));
    }
}
