//! The command line as a user meets it: lab lookup, errors, formats, parallel runs, flags
//! where they belong, closed pipes and full disks.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};

fn netlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_netlab"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("the netlab binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[test]
fn a_lab_is_found_by_id_number_or_name() {
    let by_id = netlab(&["run", "01-phone-call"]);
    assert!(by_id.status.success());
    for query in ["1", "01", "phone-call"] {
        let other = netlab(&["run", query]);
        assert!(other.status.success(), "run {query} failed");
        assert_eq!(stdout(&other), stdout(&by_id), "run {query} differs");
    }
}

#[test]
fn a_wrong_lab_exits_2_and_names_the_closest() {
    let output = netlab(&["run", "phone-cal"]);
    assert_eq!(output.status.code(), Some(2));
    let err = String::from_utf8(output.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.contains("did you mean 01-phone-call?"), "{err}");
    let typo = netlab(&["show", "stiky"]);
    assert_eq!(typo.status.code(), Some(2));
    let err = String::from_utf8(typo.stderr).unwrap();
    assert!(err.contains("did you mean 07-sticky-packet"), "{err}");
    let nothing = netlab(&["run", "zzzzzzzz"]);
    assert_eq!(nothing.status.code(), Some(2));
    assert!(String::from_utf8(nothing.stderr)
        .unwrap()
        .contains("netlab list"));
}

#[test]
fn run_prints_the_published_snapshot_body() {
    for (args, stem) in [
        (&["run", "01-phone-call"][..], "01-phone-call"),
        (&["run", "02", "--lang", "zh"][..], "02-loops.zh"),
    ] {
        let output = netlab(args);
        let snap = std::fs::read_to_string(format!("snapshots/{stem}.snap")).unwrap();
        assert_eq!(stdout(&output), netlab::snapshot::body(&snap), "{stem}");
    }
}

#[test]
fn json_format_prints_one_object_per_line() {
    let output = netlab(&["run", "01-phone-call", "--format", "json"]);
    assert!(output.status.success());
    let text = stdout(&output);
    assert!(text.lines().count() > 10);
    for line in text.lines() {
        let value: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(value["lab"], "01-phone-call");
    }
    // The form earlier versions documented, flags before `run`, still works for `run`.
    let before = netlab(&["--format", "json", "run", "01-phone-call"]);
    assert!(before.status.success());
    assert_eq!(stdout(&before), text);
}

#[test]
fn a_flag_where_it_does_not_belong_is_a_usage_error() {
    for args in [
        &["--raw", "verify", "1"][..],
        &["list", "--format", "json"],
        &["--format", "json", "list"],
        &["show", "1", "--raw"],
        &["--color", "always", "verify", "1"],
        &["completions", "bash", "--pace", "5"],
    ] {
        let output = netlab(args);
        assert_eq!(output.status.code(), Some(2), "netlab {args:?}");
        assert!(output.stdout.is_empty(), "netlab {args:?}");
        let err = String::from_utf8(output.stderr).unwrap();
        assert!(err.starts_with("error: "), "netlab {args:?}: {err}");
    }
    // --lang matters everywhere netlab prints text of its own, before or after the command.
    for args in [&["--lang", "zh", "list"][..], &["list", "--lang", "zh"]] {
        let output = netlab(args);
        assert!(output.status.success(), "netlab {args:?}");
        assert!(stdout(&output).contains("一次 TCP 通话"), "netlab {args:?}");
    }
}

#[test]
fn colour_only_when_asked() {
    let plain = netlab(&["run", "01"]);
    assert!(!stdout(&plain).contains('\u{1b}'));
    let coloured = netlab(&["run", "01", "--color", "always"]);
    assert!(stdout(&coloured).contains('\u{1b}'));
}

#[test]
fn raw_shows_real_port_numbers() {
    let raw = stdout(&netlab(&["run", "01", "--raw"]));
    let accept = raw.lines().find(|l| l.contains("phone.accept()")).unwrap();
    let port: u16 = accept
        .rsplit(", ")
        .next()
        .unwrap()
        .trim_end_matches(')')
        .parse()
        .unwrap();
    assert!(port > 0, "{accept}");
    assert!(!raw.contains("('127.0.0.1', PORT)"));
}

/// Two `run --all` at the same moment print the same bytes; a third, whose labs 09 and 16
/// cannot make their temporary directory, reports each of them, goes on with the next lab,
/// and ends with status 1 and a summary.
#[test]
fn run_all_runs_side_by_side_and_goes_on_after_a_lab_that_stops() {
    let spawn = |tmpdir: Option<&str>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_netlab"));
        command
            .args(["run", "--all"])
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(dir) = tmpdir {
            command.env("TMPDIR", dir);
        }
        command.spawn().unwrap()
    };
    let (a, b) = (spawn(None), spawn(None));
    let broken = spawn(Some("/nonexistent/netlab-test"));
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(a.status.success() && b.status.success());
    assert_eq!(a.stdout, b.stdout);

    let broken = broken.wait_with_output().unwrap();
    assert_eq!(broken.status.code(), Some(1));
    let out = stdout(&broken);
    for header in [
        "netlab 09-json-header:",
        "netlab 10-udp-echo:",
        "netlab 16-unix-socket:",
    ] {
        assert!(out.contains(header), "no {header} in the output");
    }
    let err = String::from_utf8(broken.stderr).unwrap();
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 3, "{err}");
    assert!(lines[0].starts_with("netlab: lab 09-json-header stopped: cannot make a temporary directory in /nonexistent/netlab-test (TMPDIR)"), "{err}");
    assert!(
        lines[1].starts_with("netlab: lab 16-unix-socket stopped: "),
        "{err}"
    );
    assert_eq!(
        lines[2],
        format!(
            "netlab: 2 of {} labs stopped early: 09-json-header, 16-unix-socket",
            netlab::lab::all().len()
        )
    );
}

#[test]
fn list_shows_every_lab_in_order() {
    let text = stdout(&netlab(&["list"]));
    let ids: Vec<&str> = text
        .lines()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    let expected: Vec<&str> = netlab::lab::all().iter().map(|l| l.id).collect();
    assert_eq!(ids, expected);
}

/// Every lab's snapshot is checked by tests/labs.rs; here, the command a student runs.
#[test]
fn verify_passes_against_the_published_snapshots() {
    let output = netlab(&["verify", "1"]);
    assert!(output.status.success(), "{}", stdout(&output));
    assert_eq!(
        stdout(&output),
        "ok      01-phone-call: same as snapshots/01-phone-call.snap\n"
    );
    let zh = netlab(&["verify", "2", "--lang", "zh"]);
    assert!(zh.status.success(), "{}", stdout(&zh));
}

/// A lab that stops before its end is reported as such, never as a trace that differs; the
/// cause here is a TMPDIR too long for an AF_UNIX path, and the message says so.
#[test]
fn verify_reports_a_lab_that_did_not_run_to_the_end() {
    let scratch = tempfile::tempdir().unwrap();
    let long = scratch.path().join("d".repeat(120));
    std::fs::create_dir(&long).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_netlab"))
        .args(["verify", "16"])
        .env("TMPDIR", &long)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let out = stdout(&output);
    assert!(
        out.starts_with("FAILED  16-unix-socket: did not run to the end: lab 16-unix-socket stopped: OSError: AF_UNIX path too long: "),
        "{out}"
    );
    assert!(
        out.contains("TMPDIR") && out.contains("set TMPDIR to a directory with a shorter path"),
        "{out}"
    );
    assert!(!out.contains("DIFFERS"), "{out}");
    let err = String::from_utf8(output.stderr).unwrap();
    assert_eq!(err, "netlab: of 1 lab, 1 did not run to the end\n");
}

#[test]
fn show_prints_the_lesson() {
    let output = netlab(&["show", "1", "--lang", "zh"]);
    assert!(output.status.success());
    assert!(stdout(&output).contains("买手机"));
}

#[test]
fn an_endless_lab_name_is_not_echoed_whole() {
    let long = "x".repeat(131_000);
    let output = netlab(&["run", &long]);
    assert_eq!(output.status.code(), Some(2));
    let err = String::from_utf8(output.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.len() < 200, "{} bytes: {err}", err.len());
    assert!(err.contains(&format!("'{}…'", "x".repeat(40))), "{err}");
}

/// Starts netlab with stdout on a pipe, reads `lines` lines and closes the pipe: what
/// `netlab ... | head -n LINES` does. Returns netlab's status and stderr.
fn read_then_close(args: &[&str], lines: usize) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_netlab"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    for _ in 0..lines {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
    }
    drop(reader);
    let output = child.wait_with_output().unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_pipe_closed_midway_ends_quietly_with_status_0() {
    let cases = std::iter::repeat((&["run", "--all"][..], 56))
        .take(4)
        .chain([
            (&["verify", "--all"][..], 1),
            (&["run", "--all", "--format", "json"], 3),
        ]);
    for (args, lines) in cases {
        let (status, err) = read_then_close(args, lines);
        assert_eq!(status, Some(0), "netlab {args:?} | head -n {lines}: {err}");
        assert_eq!(err, "", "netlab {args:?} | head -n {lines}");
    }
}

/// Every write fails with EPIPE: the reader is gone before netlab starts.
#[test]
fn a_pipe_closed_from_the_start_ends_quietly_with_status_0() {
    for args in [
        &["run", "1"][..],
        &["verify", "1"],
        &["list"],
        &["show", "1"],
        &["completions", "bash"],
        &["--help"],
        &["run", "--help"],
        &["--version"],
    ] {
        let (reader, writer) = rustix::pipe::pipe().unwrap();
        drop(reader);
        let output = Command::new(env!("CARGO_BIN_EXE_netlab"))
            .args(args)
            .stdout(Stdio::from(writer))
            .output()
            .unwrap();
        let err = String::from_utf8(output.stderr).unwrap();
        assert_eq!(output.status.code(), Some(0), "netlab {args:?}: {err}");
        assert_eq!(err, "", "netlab {args:?}");
    }
}

#[test]
fn a_full_disk_is_one_line_and_status_1() {
    for args in [
        &["verify", "1"][..],
        &["run", "1"],
        &["list"],
        &["show", "1"],
        &["completions", "bash"],
        &["--help"],
        &["run", "--help"],
        &["--version"],
    ] {
        let full = File::options().write(true).open("/dev/full").unwrap();
        let output = Command::new(env!("CARGO_BIN_EXE_netlab"))
            .args(args)
            .stdout(full)
            .output()
            .unwrap();
        let err = String::from_utf8(output.stderr).unwrap();
        assert_eq!(
            output.status.code(),
            Some(1),
            "netlab {args:?} >/dev/full: {err}"
        );
        assert_eq!(
            err, "netlab: could not write the output: No space left on device (os error 28)\n",
            "netlab {args:?} >/dev/full"
        );
    }
}

/// With `tcp_max_tw_buckets` at 0 the kernel keeps no TIME_WAIT: lab 01 prints what its
/// probe found and stops with status 1 instead of describing a TIME_WAIT it never saw. Runs
/// in a private user and network namespace, where that sysctl can be set; where namespaces
/// are refused it says so and checks nothing (tests/trace.rs checks the same mechanism with
/// a lab of its own everywhere).
#[test]
fn lab_01_stops_when_the_kernel_keeps_no_time_wait() {
    let script = format!(
        "ip link set lo up && echo 0 > /proc/sys/net/ipv4/tcp_max_tw_buckets && echo READY >&2 && exec {} run 1",
        env!("CARGO_BIN_EXE_netlab")
    );
    let Ok(output) = Command::new("unshare")
        .args(["-rn", "sh", "-c", &script])
        .env("NO_COLOR", "1")
        .output()
    else {
        eprintln!("skipped: unshare is not installed");
        return;
    };
    let err = String::from_utf8(output.stderr.clone()).unwrap();
    let Some(netlab_err) = err.strip_prefix("READY\n") else {
        eprintln!("skipped: no private network namespace here: {err}");
        return;
    };
    assert_eq!(output.status.code(), Some(1), "{netlab_err}");
    assert_eq!(
        netlab_err,
        "netlab: lab 01-phone-call stopped: the kernel did not show what this lab describes: \
         sock_diag (as ss -tan): connection ('127.0.0.1', CLIENT_PORT_1) to ('127.0.0.1', PORT): \
         the lab expects TIME_WAIT, the kernel shows no such connection\n"
    );
    let out = stdout(&output);
    assert!(
        out.ends_with("sock_diag (as ss -tan): connection ('127.0.0.1', CLIENT_PORT_1) to ('127.0.0.1', PORT)  -> no such connection\n"),
        "{out}"
    );
    assert!(!out.contains("TIME_WAIT"), "{out}");
}
