//! Ctrl-C (SIGINT), `kill` (SIGTERM) and a closed terminal (SIGHUP) in the middle of a lab
//! leave nothing behind: no netlab-* temporary directory, no socket file. netlab ends with the
//! shell's status for the signal, 128 + its number. Each test gives netlab a TMPDIR of its own
//! and looks at nothing else.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rustix::process::{kill_process, Pid, Signal};

/// What is in `dir`, names only.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Runs `lab` paced (200 ms between events), waits until it has made `file` in its temporary
/// directory, sends `signal`, and checks the status and that TMPDIR is empty again.
fn interrupt(lab: &str, file: &str, signal: Signal, status: i32) {
    let tmpdir = tempfile::tempdir().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_netlab"))
        .args(["run", lab, "--pace", "200"])
        .env("TMPDIR", tmpdir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait (bounded) for the evidence that the lab is under way: its file in its directory.
    let deadline = Instant::now() + Duration::from_secs(10);
    let made = loop {
        let found = entries(tmpdir.path())
            .iter()
            .any(|dir| tmpdir.path().join(dir).join(file).exists());
        if found || Instant::now() > deadline {
            break found;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let pid = Pid::from_raw(child.id() as i32).unwrap();
    kill_process(pid, signal).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(made, "lab {lab} never made {file} in TMPDIR");
    assert_eq!(
        output.status.code(),
        Some(status),
        "lab {lab}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        entries(tmpdir.path()),
        Vec::<String>::new(),
        "lab {lab} left files behind"
    );
}

#[test]
fn sigint_in_lab_16_removes_the_socket_file_and_exits_130() {
    interrupt("16", "echo.sock", Signal::INT, 130);
}

#[test]
fn sigterm_in_lab_09_removes_the_temp_dir_and_exits_143() {
    interrupt("09", "report.txt", Signal::TERM, 143);
}

#[test]
fn sighup_in_lab_16_removes_the_socket_file_and_exits_129() {
    interrupt("16", "echo.sock", Signal::HUP, 129);
}

#[test]
fn sigint_in_lab_09_exits_130() {
    interrupt("09", "report.txt", Signal::INT, 130);
}
