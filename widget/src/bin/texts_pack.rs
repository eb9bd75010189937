//! Writes the hosted page's text pack (`widget::i18n::pack_text`) to the
//! file it is given: `cargo xtask build` runs it natively for
//! `static/pkg/texts.txt`. (Built for wasm too, where it does nothing.)

fn main() {
    #[cfg(not(target_arch = "wasm32"))]
    {
        let Some(out) = std::env::args().nth(1) else {
            eprintln!("usage: texts_pack <file>");
            std::process::exit(2);
        };
        if let Err(e) = std::fs::write(&out, widget::i18n::pack_text()) {
            eprintln!("texts_pack: {out}: {e}");
            std::process::exit(1);
        }
    }
}
