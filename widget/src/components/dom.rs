//! Builds yew's virtual DOM directly. `html!` expands every element,
//! attribute and child inline, which at this page's size costs several KB
//! of wasm (the page must stay under its weight budget); these few
//! functions do the same work out of line.

use std::rc::Rc;

use yew::virtual_dom::{AttrValue, Listener, VList, VNode, VTag, VText};
use yew::Html;

/// `<name k="v" …>` with static attributes; add the rest with
/// `add_attribute`, `add_child`, `add_listener`.
pub fn tag(name: &'static str, attrs: &[(&'static str, &'static str)]) -> VTag {
    let mut t = VTag::new(name);
    for (k, v) in attrs {
        t.add_attribute(k, *v);
    }
    t
}

/// `<name k="v" …>children</name>`
pub fn el(name: &'static str, attrs: &[(&'static str, &'static str)], children: Vec<Html>) -> Html {
    let mut t = tag(name, attrs);
    t.add_children(children);
    t.into()
}

/// A text node.
pub fn text(s: impl Into<AttrValue>) -> Html {
    VText::new(s).into()
}

/// Siblings without an element around them.
pub fn list(children: Vec<Html>) -> Html {
    VList::with_children(children, None).into()
}

/// Sets a boolean attribute (`disabled`, `readonly`, …) when `on`.
pub fn flag(t: &mut VTag, name: &'static str, on: bool) {
    if on {
        t.add_attribute(name, name);
    }
}

pub fn listen(t: &mut VTag, listener: impl Listener + 'static) {
    t.add_listener(Rc::new(listener));
}

/// The empty node.
pub fn none() -> Html {
    VNode::default()
}
