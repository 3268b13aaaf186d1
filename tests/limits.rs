//! netlab under hostile resource limits (`ulimit -n`, `ulimit -v`): one clear error and exit 1,
//! never a panic, an abort or an "Unknown error".

use std::process::{Command, Output};

/// Runs `netlab ARGS` from a shell that first applies `limit` (e.g. `ulimit -n 16`).
fn netlab_under(limit: &str, args: &str) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(format!("{limit} && exec \"$0\" {args}"))
        .arg(env!("CARGO_BIN_EXE_netlab"))
        .env("NO_COLOR", "1")
        .output()
        .expect("sh runs")
}

fn assert_clean_failure(output: &Output, what: &str) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let stdout = String::from_utf8_lossy(&output.stdout);
    for bad in ["panicked", "memory allocation of", "Unknown error", "E?"] {
        assert!(
            !stderr.contains(bad) && !stdout.contains(bad),
            "{what}: {bad:?} in output:\n{stdout}\n{stderr}"
        );
    }
    assert_eq!(output.status.code(), Some(1), "{what}: {stderr}");
    stderr
}

#[test]
fn too_few_file_descriptors_is_a_named_python_error() {
    let output = netlab_under("ulimit -n 16", "run 05");
    let stderr = assert_clean_failure(&output, "ulimit -n 16, lab 05");
    assert!(
        stderr.contains("OSError: [Errno 24] Too many open files"),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("-> OSError: [Errno 24] Too many open files"),
        "the failing call shows the exception Python raises:\n{stdout}"
    );
}

/// Whether netlab starts at all under `ulimit -v KIB`: below some limit the dynamic loader or
/// the Rust runtime's own start-up fails before netlab's code runs, which no program can report.
fn starts_under_address_limit(kib: u32) -> bool {
    netlab_under(&format!("ulimit -v {kib}"), "list")
        .status
        .success()
}

/// `netlab ARGS` under `ulimit -v KIB`, for a limit under which netlab starts: it must end in
/// success or in one clear error line, never a panic or an abort. Returns the exit code and
/// stderr.
fn run_under_address_limit(kib: u32, args: &str) -> (i32, String) {
    let output = netlab_under(&format!("ulimit -v {kib}"), args);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let what = format!("ulimit -v {kib}; netlab {args}");
    let code = output.status.code();
    assert!(
        matches!(code, Some(0 | 1)),
        "{what}: {:?} (a signal means an abort):\n{stderr}",
        output.status
    );
    for bad in ["panicked", "memory allocation of", "Unknown error"] {
        assert!(!stderr.contains(bad), "{what}: {stderr}");
    }
    if code == Some(1) {
        assert_eq!(
            stderr.lines().count(),
            1,
            "{what}: one clear line: {stderr}"
        );
    }
    (code.unwrap_or(-1), stderr)
}

#[test]
fn a_small_address_space_never_panics_or_aborts() {
    // Lab 09 started threads to read a command's output: it panicked under ulimit -v 8000,
    // just above the smallest limit netlab started under then. That smallest limit grows with
    // the binary, so the lab runs under the first limit from 8000 KiB up that netlab starts
    // under.
    let tight = (8000..=12000)
        .step_by(250)
        .find(|&kib| starts_under_address_limit(kib))
        .expect("netlab starts under ulimit -v 12000");
    run_under_address_limit(tight, "run 09");
    // Lab 14 allocates 1 MiB twice: it aborted under ulimit -v 10000. From the smallest limit
    // netlab starts under up to what the lab needs, every run ends cleanly, and at least one
    // stops with the clear out-of-memory error.
    let mut clean_failures = 0;
    for kib in (4000..=12000).step_by(500) {
        if !starts_under_address_limit(kib) {
            continue;
        }
        for lab in ["09", "14"] {
            let (code, stderr) = run_under_address_limit(kib, &format!("run {lab}"));
            if lab == "14" && code == 1 {
                assert!(stderr.contains("bytes of memory"), "{stderr}");
                clean_failures += 1;
            }
        }
    }
    assert!(clean_failures > 0, "no limit made lab 14 run out of memory");
}
