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
