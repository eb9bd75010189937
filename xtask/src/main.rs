//! Build, run, test and benchmark automation for Kessai Link.
//!
//! `cargo xtask dev`   — install what is missing, build, serve everything on http://127.0.0.1:8787
//!                       (`--production`: the production build, https://127.0.0.1:8787, local secrets)
//! `cargo xtask test`  — install what is missing, run every test
//! `cargo xtask bench` — print the page-weight and throughput figures
//! `cargo xtask build` — build the hosted page and the Worker (`--production`: without any sandbox,
//!                       into edge-worker/build-production; what `wrangler deploy --env production` runs;
//!                       `--page`: only the hosted page, into static/pkg)
//! `cargo xtask tools` — only install what is missing
//! `cargo xtask fuzz`  — run every fuzz target for a bounded time (`fuzz.rs`)

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

mod fuzz;

/// worker-build is not a library dependency, so its version is pinned here.
const WORKER_BUILD_VERSION: &str = "0.8.7";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = root();
    std::env::set_current_dir(&root)?;
    match args.first().map(String::as_str) {
        Some("dev") if args.iter().any(|a| a == "--production") => dev_production(&root, &args[1..]),
        Some("dev") => dev(&root),
        Some("test") => test(&root, &args[1..]),
        Some("bench") => bench(&root),
        Some("build") => {
            let production = args.iter().any(|a| a == "--production");
            // `wrangler dev --env production` runs the production build
            // command too; `cargo xtask dev --production` and the tests have
            // built it already.
            if production && std::env::var("KESSAI_PREBUILT").is_ok_and(|v| v == "1") {
                eprintln!("xtask: production build already made (KESSAI_PREBUILT=1)");
                return Ok(());
            }
            ensure_tools(&root, false)?;
            build_widget(&root)?;
            if args.iter().any(|a| a == "--page") {
                return Ok(());
            }
            build_worker(&root, if production { Build::Production } else { Build::Dev })
        }
        Some("tools") => ensure_tools(&root, true),
        Some("fuzz") => fuzz::command(&root, &args[1..]),
        _ => {
            eprintln!("usage: cargo xtask <dev|test|bench|build|tools>");
            eprintln!("  dev    serve the Worker, sandboxes, demo shop and hosted page on http://127.0.0.1:8787");
            eprintln!("         `cargo xtask dev --production` serves the production build (no sandboxes) on https://127.0.0.1:8787");
            eprintln!("  test   run every test (unit, browser, integration, end-to-end)");
            eprintln!("         `cargo xtask test e2e` runs only the Node/Chromium suites");
            eprintln!("  bench  print page weight and purchase-request throughput");
            eprintln!("  fuzz   [--seconds N] [target]: run the fuzz targets (every one, N s each)");
            std::process::exit(2);
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_path_buf()
}

fn step(what: &str) {
    eprintln!("\n==> {what}");
}

/// PATH with the npm tools (Node 22, wrangler, wasm-opt, esbuild) and
/// cargo's bin directory first.
fn tool_path(root: &Path) -> String {
    let cargo_bin = std::env::var("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cargo"))
        .join("bin");
    format!(
        "{}:{}:{}",
        root.join("node_modules/.bin").display(),
        cargo_bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

fn cmd(root: &Path, program: &str) -> Command {
    let mut c = Command::new(program);
    c.env("PATH", tool_path(root))
        .env("WRANGLER_SEND_METRICS", "false")
        .env("CLOUDFLARE_CF_FETCH_ENABLED", "false")
        .env("NO_UPDATE_NOTIFIER", "1");
    c
}

fn run(mut c: Command) -> Result<()> {
    let shown = format!("{c:?}");
    let status = c.status().with_context(|| format!("could not start {shown}"))?;
    if !status.success() {
        bail!("failed ({status}): {shown}");
    }
    Ok(())
}

fn output(root: &Path, program: &str, args: &[&str]) -> Option<String> {
    let out = cmd(root, program).args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr))
}

/// The version of a package in Cargo.lock.
fn locked_version(root: &Path, package: &str) -> Result<String> {
    let lock = std::fs::read_to_string(root.join("Cargo.lock"))?;
    let needle = format!("name = \"{package}\"\nversion = \"");
    let start = lock.find(&needle).with_context(|| format!("{package} is not in Cargo.lock"))? + needle.len();
    Ok(lock[start..].split('"').next().unwrap_or_default().to_string())
}

/// Installs whatever is missing, and only that.
fn ensure_tools(root: &Path, browser: bool) -> Result<()> {
    step("checking tools");
    let targets = output(root, "rustup", &["target", "list", "--installed"]).unwrap_or_default();
    if !targets.contains("wasm32-unknown-unknown") {
        step("installing the wasm32-unknown-unknown target");
        let mut c = cmd(root, "rustup");
        c.args(["target", "add", "wasm32-unknown-unknown"]);
        run(c)?;
    }
    let wbg = locked_version(root, "wasm-bindgen")?;
    let have = output(root, "wasm-bindgen", &["--version"]).unwrap_or_default();
    if !have.split_whitespace().any(|w| w == wbg) {
        step(&format!("installing wasm-bindgen-cli {wbg} (matches Cargo.lock; takes several minutes once)"));
        let mut c = cmd(root, "cargo");
        c.args(["install", "wasm-bindgen-cli", "--version", &wbg, "--force"]);
        run(c)?;
    }
    let have = output(root, "worker-build", &["--version"]).unwrap_or_default();
    if !have.contains(WORKER_BUILD_VERSION) {
        step(&format!("installing worker-build {WORKER_BUILD_VERSION} (takes several minutes once)"));
        let mut c = cmd(root, "cargo");
        c.args(["install", "worker-build", "--version", WORKER_BUILD_VERSION, "--locked", "--force"]);
        run(c)?;
    }
    // npm packages: installed when package-lock.json differs from what was
    // installed last (its content, not its file date, decides).
    let lock = std::fs::read(root.join("package-lock.json")).context("package-lock.json")?;
    let lock_id = format!("{:016x}", fnv1a(&lock));
    let stamp = root.join("node_modules/.kessai-lock");
    let fresh = root.join("node_modules/.bin/wrangler").exists() && std::fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == lock_id);
    if !fresh {
        step("installing npm packages (Node 22, wrangler, binaryen, playwright-core, standardwebhooks)");
        // `npm install` with the lockfile rather than `npm ci`: the registry
        // here has no packages for other platforms (workerd's darwin and
        // windows builds), which `npm ci` refuses to leave out.
        let mut c = cmd(root, "npm");
        c.args(["install", "--no-audit", "--no-fund"]);
        run(c)?;
        std::fs::write(&stamp, &lock_id)?;
    }
    let has_browser = Path::new("/usr/bin/chromium").exists() && Path::new("/usr/bin/chromedriver").exists();
    // Japanese text in the end-to-end screenshots needs a CJK font.
    let has_cjk_font = output(root, "fc-list", &[":lang=ja"]).is_some_and(|o| !o.trim().is_empty());
    if browser && !(has_browser && has_cjk_font) {
        step("installing Debian's chromium, chromium-driver and fonts-noto-cjk");
        let sudo = output(root, "id", &["-u"]).map(|u| u.trim() != "0").unwrap_or(true);
        let apt = |args: &[&str]| -> Result<()> {
            let mut c = if sudo { cmd(root, "sudo") } else { cmd(root, "apt-get") };
            if sudo {
                c.arg("apt-get");
            }
            c.args(args).env("DEBIAN_FRONTEND", "noninteractive");
            run(c)
        };
        apt(&["update"])?;
        apt(&["install", "-y", "chromium", "chromium-driver", "fonts-noto-cjk"])?;
    }
    Ok(())
}

/// FNV-1a, to recognise a file's content without a hashing dependency.
fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf29ce484222325, |h, b| (h ^ *b as u64).wrapping_mul(0x100000001b3))
}

fn which(root: &Path, program: &str) -> Result<String> {
    let out = output(root, "which", &[program]).with_context(|| format!("{program} is not installed"))?;
    Ok(out.trim().to_string())
}

/// Builds the hosted page into static/pkg.
fn build_widget(root: &Path) -> Result<()> {
    step("building the hosted page (widget)");
    let mut c = cmd(root, "cargo");
    // The page and the two admin apps (not `texts_pack`, run natively below).
    c.args(["build", "-p", "widget", "--release", "--target", "wasm32-unknown-unknown", "--bin", "widget", "--bin", "admin", "--bin", "operator"]);
    run(c)?;
    let out_dir = root.join("static/pkg");
    let mut c = cmd(root, "wasm-bindgen");
    c.args(["--target", "web", "--no-typescript", "--out-dir"])
        .arg(&out_dir)
        .arg(root.join("target/wasm32-unknown-unknown/release/widget.wasm"));
    run(c)?;
    let wasm = out_dir.join("widget_bg.wasm");
    let mut c = cmd(root, "wasm-opt");
    c.args(["-Oz", "--converge"]).arg(&wasm).arg("-o").arg(&wasm);
    run(c)?;
    shorten_wasm_names(root, &wasm, &out_dir.join("widget.js"))?;
    // The page's one script: widget/boot.js bundled with the glue and
    // minified (esbuild, which wrangler brings; what boot.js does not use,
    // such as `initSync`, is left out).
    let js = out_dir.join("widget.js");
    let mut c = cmd(root, "esbuild");
    c.current_dir(&out_dir)
        .args(["--bundle", "--minify", "--format=esm", "--log-level=warning", "--allow-overwrite", "--sourcefile=boot.js", "--loader=js"])
        .arg(format!("--outfile={}", js.display()))
        .stdin(std::fs::File::open(root.join("widget/boot.js"))?);
    run(c)?;
    // The page's stylesheet, minified (static/pay.css stays readable).
    let css = std::fs::read_to_string(root.join("static/pay.css"))?;
    std::fs::write(out_dir.join("pay.css"), minify_css(&css))?;
    // The text pack the page fetches when it first needs it (English, the
    // error messages: widget/src/i18n.rs), written from the same tables.
    let mut c = cmd(root, "cargo");
    c.args(["run", "-q", "-p", "widget", "--bin", "texts_pack", "--"]).arg(out_dir.join("texts.txt"));
    run(c)?;
    write_integrity(root)?;
    build_admin(root)
}

/// Gives the wasm's imports, exports and import module one- or two-letter
/// names (binaryen's `--minify-imports-and-exports-and-modules`) and
/// renames them in the wasm-bindgen glue to match: about 2 KB less on the
/// page. Fails unless every import of the result is where the glue
/// (wasm-bindgen's `--target web` layout: imports as keys of one object,
/// exports read as `wasm.name`) has it.
fn shorten_wasm_names(root: &Path, wasm: &Path, glue: &Path) -> Result<()> {
    let out = cmd(root, "wasm-opt")
        .arg(wasm)
        // The last pass over the wasm: the sections only tools read go too.
        .args(["--minify-imports-and-exports-and-modules", "--strip-producers", "--strip-target-features", "-o"])
        .arg(wasm)
        .output()
        .context("wasm-opt --minify-imports-and-exports-and-modules")?;
    if !out.status.success() {
        bail!("wasm-opt --minify-imports-and-exports-and-modules failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let mut js = std::fs::read_to_string(glue)?;
    let mut section = "";
    for line in String::from_utf8(out.stdout)?.lines().map(str::trim) {
        if let Some(s) = ["imports", "exports"].into_iter().find(|s| line.starts_with(&format!("\"{s}\""))) {
            section = s;
            continue;
        }
        // `["module", "old", "new"]` (imports) or `["old", "new"]` (exports).
        let quoted: Vec<&str> = line.split('"').skip(1).step_by(2).collect();
        js = match (section, quoted.as_slice()) {
            ("imports", [_, old, new]) => js.replace(&format!("\n        {old}: "), &format!("\n        \"{new}\": ")),
            ("exports", [old, new]) => rename_property(&js, &format!("wasm.{old}"), &format!("wasm.{new}")),
            _ => continue,
        };
    }
    // The import module ("./widget_bg.js") was renamed too; the mapping
    // does not say to what, the wasm does.
    let imports = wasm_imports(&std::fs::read(wasm)?).context("reading the wasm's import section")?;
    let modules: std::collections::BTreeSet<&str> = imports.iter().map(|(m, _)| m.as_str()).collect();
    let [module] = modules.into_iter().collect::<Vec<_>>()[..] else { bail!("the wasm imports from several modules") };
    let from = "\"./widget_bg.js\": ";
    if js.matches(from).count() != 1 {
        bail!("the import object of {} is not where it was", glue.display());
    }
    js = js.replace(from, &format!("\"{module}\": "));
    for (_, field) in &imports {
        if !js.contains(&format!("\n        \"{field}\": ")) {
            bail!("import {field} of the wasm is not in {}", glue.display());
        }
    }
    std::fs::write(glue, js)?;
    Ok(())
}

/// `text` with every `from` not followed by more of a JS name replaced by `to`.
fn rename_property(text: &str, from: &str, to: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(from) {
        let longer = rest[i + from.len()..].chars().next().is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$');
        out.push_str(&rest[..i]);
        out.push_str(if longer { from } else { to });
        rest = &rest[i + from.len()..];
    }
    out.push_str(rest);
    out
}

/// The (module, name) of every import of a wasm binary.
fn wasm_imports(wasm: &[u8]) -> Option<Vec<(String, String)>> {
    fn leb(b: &[u8], i: &mut usize) -> Option<u64> {
        let (mut r, mut shift) = (0u64, 0);
        loop {
            let x = *b.get(*i)?;
            *i += 1;
            r |= u64::from(x & 0x7f) << shift;
            shift += 7;
            if x < 0x80 {
                return Some(r);
            }
        }
    }
    fn name(b: &[u8], i: &mut usize) -> Option<String> {
        let n = leb(b, i)? as usize;
        let s = String::from_utf8(b.get(*i..*i + n)?.to_vec()).ok()?;
        *i += n;
        Some(s)
    }
    let mut i = 8;
    while i < wasm.len() {
        let id = wasm[i];
        i += 1;
        let size = leb(wasm, &mut i)? as usize;
        if id != 2 {
            i += size;
            continue;
        }
        let b = wasm.get(i..i + size)?;
        let mut j = 0;
        let mut out = Vec::new();
        for _ in 0..leb(b, &mut j)? {
            let module = name(b, &mut j)?;
            let field = name(b, &mut j)?;
            match *b.get(j)? {
                0 => {
                    j += 1;
                    leb(b, &mut j)?;
                }
                // table: reftype, limits; memory: limits; global: type, mutability
                1 | 2 => {
                    j += if b[j] == 1 { 2 } else { 1 };
                    let flags = *b.get(j)?;
                    j += 1;
                    leb(b, &mut j)?;
                    if flags & 1 == 1 {
                        leb(b, &mut j)?;
                    }
                }
                3 => j += 3,
                _ => return None,
            }
            out.push((module, field));
        }
        return Some(out);
    }
    Some(Vec::new())
}

/// Every script (and the wasm and the stylesheet) the hosted page loads,
/// with its Subresource Integrity hash, as the build produced it
/// (`static/pkg/integrity.json`): the Worker puts these on the page and a
/// test checks that what is served equals them (PCI DSS 6.4.3).
pub const PAGE_ASSETS: &[&str] = &["pkg/widget.js", "pkg/widget_bg.wasm", "pkg/pay.css", "pkg/texts.txt", "autosubmit.js"];

fn write_integrity(root: &Path) -> Result<()> {
    use base64::Engine;
    use sha2::Digest;
    let mut out = String::from("{");
    for (i, a) in PAGE_ASSETS.iter().enumerate() {
        let bytes = std::fs::read(root.join("static").join(a)).with_context(|| format!("static/{a}"))?;
        let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha384::digest(&bytes));
        if i > 0 {
            out.push(',');
        }
        out.push_str(&format!("\"/{a}\":\"sha384-{hash}\""));
    }
    out.push('}');
    std::fs::write(root.join("static/pkg/integrity.json"), out + "\n")?;
    Ok(())
}

/// Drops comments and the whitespace CSS does not need.
fn minify_css(css: &str) -> String {
    let mut no_comments = String::with_capacity(css.len());
    let mut rest = css;
    while let Some(i) = rest.find("/*") {
        no_comments.push_str(&rest[..i]);
        rest = rest[i + 2..].find("*/").map_or("", |j| &rest[i + 2 + j + 2..]);
    }
    no_comments.push_str(rest);
    let mut out = String::with_capacity(no_comments.len());
    let mut pending_space = false;
    for c in no_comments.chars() {
        if c.is_whitespace() {
            pending_space = true;
            continue;
        }
        let tight = |x: char| matches!(x, '{' | '}' | ';' | ':' | ',' | '>');
        if pending_space && !out.is_empty() && !tight(c) && !out.ends_with(tight) {
            out.push(' ');
        }
        pending_space = false;
        if c == '}' && out.ends_with(';') {
            out.pop();
        }
        out.push(c);
    }
    out
}

/// Which Worker build.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Build {
    /// Development and tests: the sandboxes, the demo shop, the sandbox
    /// merchant and the sandbox clock (`sandbox-clock`), into `build/`.
    Dev,
    /// Benchmarks: the sandboxes and the sandbox merchant, but no clock
    /// door (`sandbox`), into `build-bench/`.
    Bench,
    /// Production: no features, into `build-production/`.
    Production,
}

/// Builds the Worker into edge-worker/build (or build-production).
fn build_worker(root: &Path, build: Build) -> Result<()> {
    step(match build {
        Build::Dev => "building the Worker (with the sandboxes and the sandbox clock)",
        Build::Bench => "building the Worker for the benchmarks (sandboxes, no sandbox clock)",
        Build::Production => "building the Worker for production (no sandbox) into edge-worker/build-production",
    });
    let mut c = cmd(root, "worker-build");
    c.arg("--release");
    match build {
        Build::Dev => {
            c.args(["--features", "sandbox-clock"]);
        }
        Build::Bench => {
            // Its own folder: a running `cargo xtask dev` keeps serving
            // what it served.
            // worker-build's own options first: everything from the first
            // option it does not know (`--features`) goes to cargo.
            c.args(["--out-dir", "build-bench", "--features", "sandbox"]);
        }
        Build::Production => {
            c.args(["--out-dir", "build-production"]);
        }
    }
    c
        .current_dir(root.join("edge-worker"))
        .env("WASM_BINDGEN_BIN", which(root, "wasm-bindgen")?)
        .env("WASM_OPT_BIN", root.join("node_modules/.bin/wasm-opt"))
        .env("ESBUILD_BIN", root.join("node_modules/.bin/esbuild"));
    run(c)
}

fn build(root: &Path) -> Result<()> {
    build_widget(root)?;
    build_worker(root, Build::Dev)
}

/// The administration tool and the operators' console (widget's `admin`
/// and `operator` bins, built with the page above) into
/// static/admin/pkg and static/operator-console/pkg: wasm of their own,
/// outside the hosted page's weight budget (`/admin`, `/operator`).
fn build_admin(root: &Path) -> Result<()> {
    for (bin, dir) in [("admin", "static/admin/pkg"), ("operator", "static/operator-console/pkg")] {
        step(&format!("building {bin} (widget/src/bin/{bin}) into {dir}"));
        let out_dir = root.join(dir);
        let mut c = cmd(root, "wasm-bindgen");
        c.args(["--target", "web", "--no-typescript", "--out-dir"])
            .arg(&out_dir)
            .arg(root.join(format!("target/wasm32-unknown-unknown/release/{bin}.wasm")));
        run(c)?;
        let wasm = out_dir.join(format!("{bin}_bg.wasm"));
        let mut c = cmd(root, "wasm-opt");
        c.arg("-Oz").arg(&wasm).arg("-o").arg(&wasm);
        run(c)?;
    }
    Ok(())
}

/// The Worker secrets of production (README "Production").
const PRODUCTION_SECRETS: &[&str] = &[
    "NETCASH_API_SECRET",
    "PREPAID_API_SECRET",
    "CYBERSOURCE_SHARED_SECRET",
    "AU_API_SECRET",
    "NP_API_SECRET",
    "NP_NOTIFY_SECRET",
    "OPERATOR_TOKEN",
    "SUBSCRIPTION_SECRET",
];

/// `edge-worker/.dev.vars.production` (gitignored): local stand-ins for the
/// production secrets, random, made once.
fn local_production_secrets(root: &Path) -> Result<String> {
    let path = root.join("edge-worker/.dev.vars.production");
    if !path.exists() {
        let mut f = std::fs::File::open("/dev/urandom").context("/dev/urandom")?;
        let mut text = String::from("# Local stand-ins for the production Worker secrets (cargo xtask dev --production).\n");
        for name in PRODUCTION_SECRETS {
            let mut bytes = [0u8; 24];
            std::io::Read::read_exact(&mut f, &mut bytes)?;
            let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            let value = match *name {
                "NP_NOTIFY_SECRET" => format!("whsec_{}", base64_of(&bytes)),
                "CYBERSOURCE_SHARED_SECRET" => base64_of(&bytes),
                _ => format!("local-{hex}"),
            };
            text.push_str(&format!("{name}=\"{value}\"\n"));
        }
        std::fs::write(&path, text)?;
    }
    Ok(path.display().to_string())
}

/// Standard base64 with padding (no dependency for one use).
fn base64_of(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Serves the production build locally: no sandboxes, no demo, no sandbox
/// clock, no sandbox merchant; https (self-signed) on 127.0.0.1:`port`
/// (`--port N`, default 8787), local secrets from
/// `edge-worker/.dev.vars.production`, its own local state. Its providers
/// are a second local Worker, the sandbox build on `port + 1`, which checks
/// the production Worker's (local) secrets: an operator-created merchant
/// pays against the sandboxes as it would against the providers.
fn dev_production(root: &Path, args: &[String]) -> Result<()> {
    let port: u16 = match args.iter().position(|a| a == "--port") {
        Some(i) => args.get(i + 1).and_then(|p| p.parse().ok()).context("--port takes a port number")?,
        None => 8787,
    };
    let sandboxes = port + 1;
    ensure_tools(root, false)?;
    build_widget(root)?;
    build_worker(root, Build::Production)?;
    build_worker(root, Build::Dev)?;
    let secrets_file = local_production_secrets(root)?;
    let secrets: Vec<(String, String)> = std::fs::read_to_string(&secrets_file)?
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('=').map(|(k, v)| (k.trim().to_string(), v.trim().trim_matches('"').to_string())))
        .collect();
    let base = format!("https://127.0.0.1:{port}");
    let sandbox_base = format!("http://127.0.0.1:{sandboxes}");
    step(&format!("starting the providers' sandboxes (the sandbox build) on {sandbox_base}"));
    let mut s = cmd(root, "wrangler");
    s.args(["dev", "--ip", "127.0.0.1", "--port", &sandboxes.to_string(), "--inspector-port", &(port + 2).to_string()])
        .args(["--persist-to", "../.wrangler/state-production-sandboxes", "--show-interactive-dev-session=false"])
        .args(["--var", &format!("PUBLIC_BASE_URL:{sandbox_base}")])
        .args(["--var", &format!("NETCASH_NOTIFY_URL:{base}/provider/netcash/notify")])
        .args(["--var", &format!("NP_NOTIFY_URL:{base}/provider/np/notify")])
        .args(["--var", &format!("AU_NOTIFY_URL:{base}/provider/au/notify")]);
    for (k, v) in secrets.iter().filter(|(k, _)| k != "OPERATOR_TOKEN") {
        s.args(["--var", &format!("{k}:{v}")]);
    }
    // The sandboxes know the production configuration's CyberSource ids.
    let wrangler_toml = std::fs::read_to_string(root.join("edge-worker/wrangler.toml"))?;
    let production_vars = wrangler_toml.split("[env.production.vars]").nth(1).unwrap_or_default();
    for name in ["CYBERSOURCE_MERCHANT_ID", "CYBERSOURCE_KEY_ID"] {
        let value = production_vars
            .lines()
            .find_map(|l| l.strip_prefix(name).and_then(|r| r.trim_start().strip_prefix('=')).map(|v| v.trim().trim_matches('"').to_string()));
        if let Some(v) = value {
            s.args(["--var", &format!("{name}:{v}")]);
        }
    }
    s.env("KESSAI_PREBUILT", "1").current_dir(root.join("edge-worker"));
    let mut sandbox_child = s.spawn().context("starting the sandboxes' Worker")?;
    step(&format!(
        "serving the production build on {base} (self-signed certificate; secrets in {secrets_file}; operators: /operator/…; providers: {sandbox_base}/sandbox/…; Ctrl-C stops)"
    ));
    let mut c = cmd(root, "wrangler");
    c.args(["dev", "--env", "production", "--ip", "127.0.0.1", "--port", &port.to_string(), "--local-protocol", "https"])
        .args(["--inspector-port", &(port + 3).to_string()])
        .args(["--var", &format!("PUBLIC_BASE_URL:{base}")])
        .args(["--var", "LOCAL_SANDBOX_PROVIDERS:on"]);
    for (name, path) in [("NETCASH", "netcash"), ("PREPAID", "prepaid"), ("CYBERSOURCE", "cybersource"), ("AU", "au"), ("NP", "np")] {
        c.args(["--var", &format!("{name}_BASE_URL:{sandbox_base}/sandbox/{path}")]);
    }
    c.args(["--persist-to", "../.wrangler/state-production", "--show-interactive-dev-session=false"])
        .env("KESSAI_PREBUILT", "1")
        .current_dir(root.join("edge-worker"));
    let result = run(c);
    let _ = sandbox_child.kill();
    let _ = sandbox_child.wait();
    result
}

fn dev(root: &Path) -> Result<()> {
    ensure_tools(root, false)?;
    build(root)?;
    step("serving on http://127.0.0.1:8787 (demo shop: http://127.0.0.1:8787/demo, Ctrl-C stops)");
    let mut c = cmd(root, "wrangler");
    c.args(["dev", "--ip", "127.0.0.1", "--port", "8787", "--persist-to", "../.wrangler/state", "--show-interactive-dev-session=false"])
        .current_dir(root.join("edge-worker"));
    run(c)
}

fn test(root: &Path, args: &[String]) -> Result<()> {
    ensure_tools(root, true)?;
    let only_e2e = args.first().map(String::as_str) == Some("e2e");
    if !only_e2e {
        step("unit tests (native)");
        let mut c = cmd(root, "cargo");
        c.args(["test", "--workspace", "--exclude", "widget", "--features", "edge-worker/sandbox-clock"]);
        run(c)?;
        step("unit tests of the production build of the Worker (no sandbox)");
        let mut c = cmd(root, "cargo");
        c.args(["test", "-p", "edge-worker"]);
        run(c)?;
        step("hosted page browser tests (wasm-bindgen-test in headless Chromium)");
        let mut c = cmd(root, "cargo");
        c.args(["test", "-p", "widget", "--target", "wasm32-unknown-unknown"]).env("CHROMEDRIVER", "/usr/bin/chromedriver");
        run(c)?;
    }
    build(root)?;
    // The production build too (edge-worker/build-production), for the
    // production suite.
    build_worker(root, Build::Production)?;
    step("integration and end-to-end tests (real Worker under wrangler dev, real Chromium)");
    let mut c = cmd(root, "node");
    c.args(["--test", "--test-concurrency=1", "--test-reporter=spec"]);
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("tests"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".test.mjs"))
        .collect();
    files.sort();
    c.args(&files);
    run(c)?;
    if !only_e2e {
        step("fuzzing every target briefly");
        fuzz::fuzz(root, fuzz::TEST_SECONDS, None)?;
    }
    Ok(())
}

/// Benchmarks run a build without the sandbox clock door but with the
/// sandboxes and the sandbox merchant (feature `sandbox`), configured as in
/// development.
fn bench(root: &Path) -> Result<()> {
    ensure_tools(root, true)?;
    build_widget(root)?;
    build_worker(root, Build::Bench)?;
    build_worker(root, Build::Production)?;
    // The billing run needs the sandbox clock (the development build).
    build_worker(root, Build::Dev)?;
    step("benchmarks");
    let mut c = cmd(root, "node");
    c.arg(root.join("tests/bench/bench.mjs"));
    run(c)?;
    fuzz::fuzz(root, fuzz::BENCH_SECONDS, None).map(|_| ())
}
