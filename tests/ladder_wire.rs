//! `--format ladder --wire`: lab 17's ladder with its packets, as a student runs it: the built
//! `netlab` binary in a child process (it makes its private network namespace first thing,
//! which a test process, with its threads, could not), compared with
//! snapshots/17-handshake-and-close.wire.ladder.snap; the handshake drawn as three arrows
//! that alternate direction; every line within 80 columns.
//!
//! Its own `main` (harness = false) so that where the kernel refuses namespaces each test is
//! reported as skipped, with netlab's reason.

mod harness;
use harness::TestResult;

use std::panic::{self, AssertUnwindSafe};
use std::process::{Command, ExitCode, Output};

use unicode_width::UnicodeWidthStr;

const NETLAB: &str = env!("CARGO_BIN_EXE_netlab");

/// A test's name and what it runs.
type Named = (&'static str, fn() -> TestResult);

/// Lab 17's ladder with `--wire` in a language, or why this machine cannot make it.
fn wire_ladder(lang: &str) -> Result<Result<String, String>, String> {
    let output: Output = Command::new(NETLAB)
        .args(["run", "17", "--wire", "--format", "ladder", "--lang", lang])
        .env("NO_COLOR", "1")
        .output()
        .map_err(|e| format!("cannot run {NETLAB}: {e}"))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.code() == Some(2) && stderr.starts_with("netlab: --wire needs") {
        return Ok(Err(stderr.trim().to_string()));
    }
    if !output.status.success() {
        return Err(format!(
            "netlab run 17 --wire --format ladder: {}: {stderr}",
            output.status
        ));
    }
    Ok(Ok(String::from_utf8_lossy(&output.stdout).into_owned()))
}

fn snapshot() -> TestResult {
    let ladder = match wire_ladder("en")? {
        Ok(ladder) => ladder,
        Err(refused) => return Ok(Some(refused)),
    };
    panic::catch_unwind(AssertUnwindSafe(|| {
        insta::with_settings!({
            snapshot_path => "../snapshots",
            prepend_module_to_snapshot => false,
            omit_expression => true,
        }, {
            insta::assert_snapshot!("17-handshake-and-close.wire.ladder", ladder);
        });
    }))
    .map(|()| None)
    .map_err(|_| "the ladder differs from snapshots/17-handshake-and-close.wire.ladder.snap".into())
}

/// The handshake: SYN to the server, SYN-ACK back, ACK to the server, each an arrow from one
/// lane to the other with its flags on it.
fn handshake_arrows() -> TestResult {
    let ladder = match wire_ladder("en")? {
        Ok(ladder) => ladder,
        Err(refused) => return Ok(Some(refused)),
    };
    let arrows: Vec<&str> = ladder
        .lines()
        .filter(|line| line.contains("Flags ["))
        .take(3)
        .collect();
    let expected = [("[S]", "->|"), ("[S.]", "|<-"), ("[.]", "->|")];
    for (line, (flags, direction)) in arrows.iter().zip(expected) {
        let graphic = line.split("Flags").next().unwrap_or_default();
        if !graphic.contains(flags) || !graphic.contains(direction) {
            return Err(format!(
                "expected an arrow {direction} with {flags}: {line}"
            ));
        }
    }
    Ok(None)
}

/// Every line within 80 display columns, in both languages.
fn fits_80_columns() -> TestResult {
    for lang in ["en", "zh"] {
        let ladder = match wire_ladder(lang)? {
            Ok(ladder) => ladder,
            Err(refused) => return Ok(Some(refused)),
        };
        if let Some(line) = ladder.lines().find(|line| line.width() > 80) {
            return Err(format!(
                "{lang}: a line of {} columns: {line}",
                line.width()
            ));
        }
    }
    Ok(None)
}

fn main() -> ExitCode {
    let tests: [Named; 3] = [
        ("wire_ladder_snapshot", snapshot),
        ("wire_ladder_handshake_arrows", handshake_arrows),
        ("wire_ladder_fits_80_columns", fits_80_columns),
    ];
    let filters = harness::filters();
    harness::report(
        tests
            .into_iter()
            .filter(|(name, _)| harness::selected(&filters, name))
            .map(|(name, run)| (name.to_string(), run())),
    )
}
