//! The command line as a user meets it: lab lookup, errors, formats, parallel runs.

use std::process::{Command, Output};

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
    let output = netlab(&["--format", "json", "run", "01-phone-call"]);
    assert!(output.status.success());
    let text = stdout(&output);
    assert!(text.lines().count() > 10);
    for line in text.lines() {
        let value: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(value["lab"], "01-phone-call");
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

#[test]
fn two_run_all_at_the_same_moment_both_succeed() {
    let spawn = || {
        Command::new(env!("CARGO_BIN_EXE_netlab"))
            .args(["run", "--all"])
            .env("NO_COLOR", "1")
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(a.status.success() && b.status.success());
    assert_eq!(a.stdout, b.stdout);
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

#[test]
fn verify_passes_against_the_published_snapshots() {
    let output = netlab(&["verify", "--all"]);
    assert!(output.status.success(), "{}", stdout(&output));
    let zh = netlab(&["verify", "--all", "--lang", "zh"]);
    assert!(zh.status.success(), "{}", stdout(&zh));
}

#[test]
fn show_prints_the_lesson() {
    let output = netlab(&["show", "1", "--lang", "zh"]);
    assert!(output.status.success());
    assert!(stdout(&output).contains("买手机"));
}
