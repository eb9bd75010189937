//! `cargo xtask fuzz [--seconds N] [target]`: coverage-guided fuzzing of
//! every parser of outside input (the `fuzz/` crate, cargo-fuzz layout).
//!
//! Stable toolchain: `cargo fuzz … --sanitizer none` (libFuzzer comes from
//! the `libfuzzer-sys` crate; the sanitizers need nightly) and
//! `--debug-assertions`, so an arithmetic overflow is a crash too. Each
//! target runs for a bounded time over its corpus (`fuzz/corpus/<target>`:
//! the committed `seed-*` files, among them every crash found so far, plus
//! what earlier local runs added), and its figures are printed from
//! libFuzzer's final `#N DONE cov: … ft: … corp: … exec/s: …` line. A crash,
//! a timeout or an out-of-memory input fails the run; the input is in
//! `fuzz/artifacts/<target>/`.

use anyhow::{bail, Context, Result};
use std::path::Path;

use crate::{cmd, output, run, step};

/// cargo-fuzz is not a library dependency, so its version is pinned here.
const CARGO_FUZZ_VERSION: &str = "0.13.2";
/// Seconds per target in `cargo xtask test` (8 targets: well under 3 minutes).
pub const TEST_SECONDS: u32 = 10;
/// Seconds per target in `cargo xtask bench`.
pub const BENCH_SECONDS: u32 = 30;
/// Seconds per target of `cargo xtask fuzz` without `--seconds`.
const DEFAULT_SECONDS: u32 = 60;
/// libFuzzer's limit for one input, in seconds (a parser that slow is a bug).
const INPUT_TIMEOUT_SECONDS: u32 = 10;

/// What one target's run came to.
#[derive(Debug, Default, Clone)]
pub struct Figures {
    pub target: String,
    pub seconds: u32,
    pub executions: u64,
    pub exec_per_s: u64,
    pub cov: u64,
    pub ft: u64,
    pub corpus: u64,
    /// `None`: clean; else what failed and where its input is.
    pub failure: Option<String>,
}

/// `cargo xtask fuzz [--seconds N] [target]`.
pub fn command(root: &Path, args: &[String]) -> Result<()> {
    let mut seconds = DEFAULT_SECONDS;
    let mut only = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--seconds" | "-s" => {
                seconds = it.next().context("--seconds needs a number")?.parse().context("--seconds needs a number")?;
            }
            t if !t.starts_with('-') => only = Some(t.to_string()),
            other => bail!("unknown option {other}; usage: cargo xtask fuzz [--seconds N] [target]"),
        }
    }
    fuzz(root, seconds, only.as_deref()).map(|_| ())
}

/// Installs cargo-fuzz when it is missing (about a minute, once).
pub fn ensure_cargo_fuzz(root: &Path) -> Result<()> {
    let have = output(root, "cargo", &["fuzz", "--version"]).unwrap_or_default();
    if !have.contains(CARGO_FUZZ_VERSION) {
        step(&format!("installing cargo-fuzz {CARGO_FUZZ_VERSION} (about a minute, once)"));
        let mut c = cmd(root, "cargo");
        c.args(["install", "cargo-fuzz", "--version", CARGO_FUZZ_VERSION, "--locked", "--force"]);
        run(c)?;
    }
    Ok(())
}

/// The targets: one file each in fuzz/fuzz_targets.
pub fn targets(root: &Path) -> Result<Vec<String>> {
    let mut v: Vec<String> = std::fs::read_dir(root.join("fuzz/fuzz_targets"))?
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.strip_suffix(".rs")).map(str::to_string))
        .collect();
    v.sort();
    Ok(v)
}

/// The flags of every `cargo fuzz` call: stable toolchain, overflow checks on.
const FLAGS: [&str; 3] = ["--sanitizer", "none", "--debug-assertions"];

/// Builds every target, then runs each (or `only`) for `seconds`, prints
/// the figures and fails if any target failed.
pub fn fuzz(root: &Path, seconds: u32, only: Option<&str>) -> Result<Vec<Figures>> {
    ensure_cargo_fuzz(root)?;
    let all = targets(root)?;
    let chosen: Vec<String> = match only {
        Some(t) if all.iter().any(|a| a == t) => vec![t.to_string()],
        Some(t) => bail!("no fuzz target {t}; there are: {}", all.join(", ")),
        None => all,
    };
    step("building the fuzz targets (cargo fuzz build --sanitizer none --debug-assertions)");
    let mut c = cmd(root, "cargo");
    c.args(["fuzz", "build"]).args(FLAGS);
    run(c)?;
    let mut figures = Vec::new();
    for t in &chosen {
        step(&format!("fuzzing {t} for {seconds} s"));
        let f = run_target(root, t, seconds)?;
        eprintln!("{}", line(&f));
        figures.push(f);
    }
    eprintln!("\nfuzzing ({seconds} s per target; cov = code edges reached, ft = features):");
    eprintln!("  {:<24} {:>12} {:>9} {:>6} {:>7} {:>7}  result", "target", "executions", "exec/s", "cov", "ft", "corpus");
    for f in &figures {
        eprintln!("{}", line(f));
    }
    let failed: Vec<&Figures> = figures.iter().filter(|f| f.failure.is_some()).collect();
    if !failed.is_empty() {
        for f in &failed {
            eprintln!("{}: {}", f.target, f.failure.as_deref().unwrap_or_default());
        }
        bail!(
            "{} fuzz target(s) failed. Reproduce with `cargo fuzz run <target> <artifact> -s none -a`, fix the code, add a \
             regression unit test next to it and copy the artifact to fuzz/corpus/<target>/seed-<name>",
            failed.len()
        );
    }
    Ok(figures)
}

fn line(f: &Figures) -> String {
    format!(
        "  {:<24} {:>12} {:>9} {:>6} {:>7} {:>7}  {}",
        f.target,
        f.executions,
        f.exec_per_s,
        f.cov,
        f.ft,
        f.corpus,
        if f.failure.is_some() { "FAILED" } else { "ok" }
    )
}

fn run_target(root: &Path, target: &str, seconds: u32) -> Result<Figures> {
    let corpus = root.join("fuzz/corpus").join(target);
    std::fs::create_dir_all(&corpus)?;
    let mut c = cmd(root, "cargo");
    c.args(["fuzz", "run"]).args(FLAGS).arg(target).arg("--").args([
        format!("-max_total_time={seconds}"),
        format!("-timeout={INPUT_TIMEOUT_SECONDS}"),
        "-rss_limit_mb=1024".to_string(),
        "-print_final_stats=1".to_string(),
    ]);
    let dict = root.join("fuzz/dict").join(format!("{target}.dict"));
    if dict.exists() {
        c.arg(format!("-dict={}", dict.display()));
    }
    let out = c.output().with_context(|| format!("could not start cargo fuzz run {target}"))?;
    let text = String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    let mut f = parse(&text);
    f.target = target.to_string();
    f.seconds = seconds;
    if !out.status.success() || f.failure.is_some() {
        let tail: Vec<&str> = text.lines().rev().take(40).collect::<Vec<_>>().into_iter().rev().collect();
        eprintln!("{}", tail.join("\n"));
        let artifact = text
            .lines()
            .find_map(|l| l.split_once("Test unit written to ").map(|(_, p)| p.trim().to_string()))
            .unwrap_or_else(|| "no artifact written".into());
        f.failure = Some(format!("{} ({artifact})", f.failure.clone().unwrap_or_else(|| format!("exited with {}", out.status))));
    }
    Ok(f)
}

/// Reads libFuzzer's output: the last `#N DONE …` (or last status) line,
/// `stat::number_of_executed_units`, and what kind of failure, if any.
pub fn parse(text: &str) -> Figures {
    let mut f = Figures::default();
    let field = |l: &str, name: &str| -> Option<u64> {
        let rest = &l[l.find(name)? + name.len()..];
        rest.split_whitespace().next()?.trim_end_matches(|c: char| !c.is_ascii_digit()).parse().ok()
    };
    let mut lines = text.lines().peekable();
    while let Some(l) = lines.next() {
        let l = l.trim();
        if let Some(rest) = l.strip_prefix('#') {
            if l.contains(" cov: ") {
                if let Some(n) = rest.split_whitespace().next().and_then(|n| n.parse().ok()) {
                    f.executions = n;
                }
                f.cov = field(l, "cov:").unwrap_or(f.cov);
                f.ft = field(l, "ft:").unwrap_or(f.ft);
                f.corpus = l.find("corp:").and_then(|i| l[i + 5..].trim_start().split('/').next()?.parse().ok()).unwrap_or(f.corpus);
                f.exec_per_s = field(l, "exec/s:").unwrap_or(f.exec_per_s);
            }
        } else if let Some(n) = l.strip_prefix("stat::number_of_executed_units:") {
            f.executions = n.trim().parse().unwrap_or(f.executions);
        } else if let Some(n) = l.strip_prefix("stat::average_exec_per_sec:") {
            f.exec_per_s = n.trim().parse().unwrap_or(f.exec_per_s);
        } else if f.failure.is_none() {
            for (needle, what) in [
                ("panicked at", "panic"),
                ("ERROR: libFuzzer: deadly signal", "crash"),
                ("ERROR: libFuzzer: timeout", "timeout"),
                ("ERROR: libFuzzer: out-of-memory", "out of memory"),
                ("ERROR: libFuzzer: fuzz target exited", "the target exited"),
            ] {
                if l.contains(needle) {
                    // A panic's message is on the next line.
                    let message = if what == "panic" { lines.peek().map(|m| format!(" {}", m.trim())).unwrap_or_default() } else { String::new() };
                    f.failure = Some(format!("{what}: {l}{message}"));
                }
            }
        }
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_libfuzzer_figures() {
        let out = "INFO: Seed: 1\n#2\tINITED cov: 10 ft: 11 corp: 1/1b exec/s: 0 rss: 30Mb\n\
                   #280786\tDONE   cov: 769 ft: 1987 corp: 433/143Kb lim: 1876 exec/s: 46797 rss: 54Mb\n\
                   Done 280786 runs in 6 second(s)\nstat::number_of_executed_units: 280786\nstat::average_exec_per_sec:     46797\n";
        let f = parse(out);
        assert_eq!((f.executions, f.cov, f.ft, f.corpus, f.exec_per_s), (280786, 769, 1987, 433, 46797));
        assert!(f.failure.is_none());
    }

    #[test]
    fn reads_a_crash() {
        let out = "#5\tNEW    cov: 3 ft: 3 corp: 2/2b exec/s: 0 rss: 30Mb\n\
                   thread '<unnamed>' panicked at fuzz_targets/x.rs:28:13:\n==1== ERROR: libFuzzer: deadly signal\n\
                   artifact_prefix='a/'; Test unit written to a/crash-1\n";
        let f = parse(out);
        assert!(f.failure.as_deref().is_some_and(|w| w.starts_with("panic")), "{f:?}");
        assert_eq!(f.executions, 5);
    }
}
