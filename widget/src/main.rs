//! The page's entry point. A bin target (not a cdylib) so that LTO applies.

fn main() {
    widget::start();
}
