//! What the test binaries with a `main` of their own share (tests/wire.rs, wire_labs.rs,
//! ladder_wire.rs, browser.rs): they need their own harness, to run a child before any thread
//! exists or to report a test this machine cannot run as skipped with its reason, and they
//! report their results the same way cargo's harness does.

use std::process::ExitCode;

/// How one test went: `Ok(None)` passed, `Ok(Some(reason))` skipped, `Err(why)` failed.
pub type TestResult = Result<Option<String>, String>;

/// Prints one line per test and the totals, like cargo's harness, and the exit status: a
/// failure fails the binary, a skip does not.
pub fn report(results: impl IntoIterator<Item = (String, TestResult)>) -> ExitCode {
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    for (name, result) in results {
        match result {
            Ok(None) => {
                passed += 1;
                println!("test {name} ... ok");
            }
            Ok(Some(reason)) => {
                skipped += 1;
                println!("test {name} ... skipped: {reason}");
            }
            Err(why) => {
                failed += 1;
                println!("test {name} ... FAILED\n{why}");
            }
        }
    }
    println!("{passed} passed, {failed} failed, {skipped} skipped");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The command line's test-name filters (arguments that are not flags), as cargo passes them.
pub fn filters() -> Vec<String> {
    std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with('-'))
        .collect()
}

/// Whether a test named `name` runs under `filters` (all run when there are none).
pub fn selected(filters: &[String], name: &str) -> bool {
    filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str()))
}
