//! The student's side (issue 14), through the binary as a student runs it: verify against the
//! snapshots on disk or built in, a saved output, the language from the locale, finding a lab
//! by a word of its name, shell completions, JSON lines against their schema, and progress.

use std::path::Path;
use std::process::{Command, Output};

/// netlab with a private home (progress goes there), an English locale unless a test says
/// otherwise, and no colour, run in `dir`.
fn netlab_in(dir: &Path, home: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_netlab"));
    command
        .args(args)
        .current_dir(dir)
        .env("HOME", home)
        .env_remove("XDG_DATA_HOME")
        .env("NO_COLOR", "1")
        .env_remove("NETLAB_LANG")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env("LANG", "C.UTF-8");
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().expect("the netlab binary runs")
}

/// netlab run from the project's own directory.
fn netlab(env: &[(&str, &str)], args: &[&str]) -> Output {
    let home = tempfile::tempdir().unwrap();
    netlab_in(
        Path::new(env!("CARGO_MANIFEST_DIR")),
        home.path(),
        env,
        args,
    )
}

fn out(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn err(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

fn has_chinese(text: &str) -> bool {
    text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// A copy of the project as a student has it: Cargo.toml and snapshots/.
fn copy_of_the_project() -> tempfile::TempDir {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let copy = tempfile::tempdir().unwrap();
    std::fs::copy(root.join("Cargo.toml"), copy.path().join("Cargo.toml")).unwrap();
    std::fs::create_dir(copy.path().join("snapshots")).unwrap();
    for entry in std::fs::read_dir(root.join("snapshots")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(
            entry.path(),
            copy.path().join("snapshots").join(entry.file_name()),
        )
        .unwrap();
    }
    copy
}

#[test]
fn verify_reads_the_edited_snapshot_in_a_copy_and_the_built_in_one_elsewhere() {
    let copy = copy_of_the_project();
    let home = tempfile::tempdir().unwrap();
    let snap = copy.path().join("snapshots").join("07-sticky-packet.snap");
    let text = std::fs::read_to_string(&snap).unwrap();
    let (line_no, line) = text
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains("b'helloworld'"))
        .unwrap();
    let edited_line = line.replace("helloworld", "helloWORLD");
    std::fs::write(&snap, text.replace(line, &edited_line)).unwrap();

    // Inside the copy (from a subdirectory too): the edited file, a diff with both lines.
    let sub = copy.path().join("snapshots");
    for dir in [copy.path(), sub.as_path()] {
        let output = netlab_in(dir, home.path(), &[], &["verify", "7"]);
        let stdout = out(&output);
        assert_eq!(output.status.code(), Some(1), "{stdout}{}", err(&output));
        let dir_shown = copy.path().join("snapshots");
        assert!(
            stdout.starts_with(&format!(
                "comparing with the snapshots in {}\n",
                dir_shown.display()
            )),
            "{stdout}"
        );
        assert!(
            stdout.contains("DIFFERS 07-sticky-packet: differs from "),
            "{stdout}"
        );
        assert!(
            stdout.contains("07-sticky-packet.snap; changed lines: 1\n"),
            "{stdout}"
        );
        // Numbered as in the .snap file (insta's header lines count).
        let removed = format!("-{:>5}  {}", line_no + 1, edited_line);
        let added = format!("+       {line}");
        assert!(stdout.contains(&removed), "no {removed:?} in\n{stdout}");
        assert!(stdout.contains(&added), "no {added:?} in\n{stdout}");
        assert!(
            stdout.contains("likely cause: ") && stdout.contains("built into this netlab"),
            "{stdout}"
        );
        assert_eq!(
            err(&output),
            "netlab: labs checked: 1; different from the snapshot: 1\n"
        );
    }

    // Outside any project: the built-in copies, and it says so.
    let elsewhere = tempfile::tempdir().unwrap();
    let output = netlab_in(elsewhere.path(), home.path(), &[], &["verify", "7"]);
    let stdout = out(&output);
    assert_eq!(output.status.code(), Some(0), "{stdout}{}", err(&output));
    assert!(
        stdout.starts_with("comparing with the snapshots built into netlab "),
        "{stdout}"
    );
    assert!(stdout.contains("ok      07-sticky-packet: same as snapshots/07-sticky-packet.snap"));

    // --snapshots DIR names the directory: the edited copy, from anywhere.
    let dir = copy.path().join("snapshots");
    let output = netlab_in(
        elsewhere.path(),
        home.path(),
        &[],
        &["verify", "7", "--snapshots", dir.to_str().unwrap()],
    );
    assert_eq!(output.status.code(), Some(1));
    let nowhere = elsewhere.path().join("no-such-dir");
    let nowhere = nowhere.to_str().unwrap();
    let missing = netlab_in(
        elsewhere.path(),
        home.path(),
        &[],
        &["verify", "7", "--snapshots", nowhere],
    );
    assert_eq!(missing.status.code(), Some(2));
    assert_eq!(
        err(&missing),
        format!("netlab: --snapshots {nowhere}: not a directory\n")
    );
}

#[test]
fn verify_compares_a_saved_run_output_or_snap_file() {
    let scratch = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let run = netlab_in(scratch.path(), home.path(), &[], &["run", "7"]);
    assert!(run.status.success());
    let mine = scratch.path().join("mine.txt");
    std::fs::write(&mine, &run.stdout).unwrap();
    let output = netlab_in(
        scratch.path(),
        home.path(),
        &[],
        &["verify", "7", "--file", "mine.txt"],
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}{}",
        out(&output),
        err(&output)
    );

    // A .snap file as the file: its body counts.
    let snap = Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots/07-sticky-packet.snap");
    let output = netlab_in(
        scratch.path(),
        home.path(),
        &[],
        &["verify", "7", "--file", snap.to_str().unwrap()],
    );
    assert_eq!(output.status.code(), Some(0), "{}", out(&output));

    // The Chinese run compared with the English snapshot: the cause says which language.
    let zh = netlab_in(
        scratch.path(),
        home.path(),
        &[],
        &["run", "7", "--lang", "zh"],
    );
    std::fs::write(&mine, &zh.stdout).unwrap();
    let output = netlab_in(
        scratch.path(),
        home.path(),
        &[],
        &["verify", "7", "--file", "mine.txt"],
    );
    assert_eq!(output.status.code(), Some(1));
    let stdout = out(&output);
    assert!(stdout.contains("+++ mine.txt"), "{stdout}");
    assert!(
        stdout.contains("likely cause: another language: this output matches snapshots/07-sticky-packet.zh.snap; add --lang zh"),
        "{stdout}"
    );

    // Another lab's output.
    std::fs::write(&mine, &run.stdout).unwrap();
    let output = netlab_in(
        scratch.path(),
        home.path(),
        &[],
        &["verify", "8", "--file", "mine.txt"],
    );
    assert!(
        out(&output).contains("likely cause: this is the output of another lab (07-sticky-packet)")
    );

    // A file that cannot be read is a usage error.
    let output = netlab_in(
        scratch.path(),
        home.path(),
        &[],
        &["verify", "7", "--file", "nope.txt"],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        err(&output).starts_with("netlab: cannot read nope.txt: "),
        "{}",
        err(&output)
    );
}

#[test]
fn a_paced_output_is_recognised() {
    assert!(netlab::snapshot::is_paced(
        "netlab 01-phone-call: title\n== paced run (--pace 500): kernel timers ran at human speed; not comparable with the snapshot ==\n\n  1 server"
    ));
    assert!(!netlab::snapshot::is_paced(
        "netlab 01-phone-call: title\n\n-- a section --\n  1 server  x\n== paced run (--pace 500), later in a note ==\n"
    ));
}

#[test]
fn a_chinese_locale_gives_chinese() {
    let zh = [("LANG", "zh_CN.UTF-8")];
    let run = netlab(&zh, &["run", "1"]);
    assert!(run.status.success());
    let text = out(&run);
    assert!(
        text.starts_with("netlab 01-phone-call: 一次 TCP 通话"),
        "{text}"
    );
    assert!(text.contains("下一个实验：netlab run 02-loops"), "{text}");

    let nope = netlab(&zh, &["run", "nope"]);
    assert_eq!(nope.status.code(), Some(2));
    assert_eq!(
        err(&nope),
        "netlab: 没有叫 'nope' 的实验；`netlab list` 列出所有实验\n"
    );

    // --lang overrides; NETLAB_LANG beats the locale; the first locale variable set decides.
    assert!(!has_chinese(&out(&netlab(
        &zh,
        &["run", "1", "--lang", "en"]
    ))));
    assert!(!has_chinese(&out(&netlab(
        &[("LANG", "zh_CN.UTF-8"), ("NETLAB_LANG", "en")],
        &["list"]
    ))));
    assert!(!has_chinese(&out(&netlab(
        &[("LANG", "zh_CN.UTF-8"), ("LC_ALL", "C")],
        &["list"]
    ))));
    assert!(has_chinese(&out(&netlab(
        &[("LC_MESSAGES", "zh_TW.UTF-8")],
        &["list"]
    ))));

    // netlab's own messages: verify, a usage error from clap.
    let verify = netlab(&zh, &["verify", "1"]);
    assert!(
        out(&verify).contains("一致    01-phone-call.zh：与 "),
        "{}",
        out(&verify)
    );
    let usage = netlab(&zh, &["run", "1", "--bogus"]);
    assert_eq!(usage.status.code(), Some(2));
    assert!(
        err(&usage).starts_with("错误：多余的参数 '--bogus'\n"),
        "{}",
        err(&usage)
    );
    assert!(err(&usage).contains("用法：netlab run"), "{}", err(&usage));
    let misplaced = netlab(&zh, &["--raw", "list"]);
    assert_eq!(misplaced.status.code(), Some(2));
    assert!(
        err(&misplaced).starts_with("错误：--raw 是 `netlab run` 的选项"),
        "{}",
        err(&misplaced)
    );
}

#[test]
fn a_lab_is_found_by_a_word_or_the_start_of_its_id() {
    let by_id = out(&netlab(&[], &["run", "07-sticky-packet"]));
    for query in ["sticky", "07-sticky", "STICKY-PACKET", "7-sticky", "Sticky"] {
        let output = netlab(&[], &["run", query]);
        assert!(output.status.success(), "run {query}: {}", err(&output));
        assert_eq!(out(&output), by_id, "run {query}");
    }
    let udp = netlab(&[], &["run", "udp"]);
    assert_eq!(udp.status.code(), Some(2));
    assert_eq!(
        err(&udp),
        "netlab: 'udp' matches 4 labs: 10-udp-echo, 11-udp-chat, 12-udp-time-server, 13-udp-boundaries; write more of the name, or the number\n"
    );
    let ninety_nine = netlab(&[], &["run", "99"]);
    assert_eq!(ninety_nine.status.code(), Some(2));
    let last = netlab::lab::all().last().unwrap().number();
    assert_eq!(
        err(&ninety_nine),
        format!("netlab: there is no lab 99: the labs are numbered 01-{last:02}\n")
    );
    assert!(out(&ninety_nine).is_empty());
}

#[test]
fn completions_offer_the_labs() {
    for shell in ["bash", "zsh", "fish"] {
        let output = netlab(&[], &["completions", shell]);
        assert!(output.status.success());
        let script = out(&output);
        assert!(script.contains("07-sticky-packet"), "{shell}");
        assert!(script.contains("sticky-packet"), "{shell}");
    }
    // Help does not list the labs as "possible values".
    let help = out(&netlab(&[], &["run", "--help"]));
    assert!(!help.contains("10-udp-echo"), "{help}");
}

#[test]
fn every_json_line_of_every_lab_validates_in_both_languages() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/trace.schema.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let labs = netlab::lab::all().len();
    for lang in ["en", "zh"] {
        let output = netlab(&[], &["--format", "json", "run", "--all", "--lang", lang]);
        assert!(output.status.success(), "{}", err(&output));
        let records: Vec<serde_json::Value> = out(&output)
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        for record in &records {
            let errors: Vec<String> = validator
                .iter_errors(record)
                .map(|e| e.to_string())
                .collect();
            assert!(errors.is_empty(), "{lang}: {record}\n{}", errors.join("\n"));
        }
        let count = |kind: &str| records.iter().filter(|r| r["record"] == kind).count();
        assert_eq!(
            (count("lab_start"), count("lab_end")),
            (labs, labs),
            "{lang}"
        );
        let reset = records
            .iter()
            .find(|r| {
                r["lab"] == "04-client-disconnect" && r["error"]["errno_name"] == "ECONNRESET"
            })
            .expect("lab 04 has an ECONNRESET event");
        assert_eq!(reset["error"]["errno"], 104);
        assert_eq!(reset["error"]["exception"], "ConnectionResetError");
        assert_eq!(
            reset["error"]["python"],
            "ConnectionResetError: [Errno 104] Connection reset by peer"
        );
        let last = records.last().unwrap();
        assert_eq!(last["record"], "lab_end");
        assert!(last["next"]["lab"].is_null() && last["next"]["run"].is_null());
    }
}

/// A record the contract forbids fails the schema: the test above can fail.
#[test]
fn the_schema_refuses_what_the_contract_forbids() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/trace.schema.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let good = serde_json::json!({
        "record": "event", "lab": "01-phone-call", "seq": 1, "kind": "call", "side": "server",
        "section": null, "call": "phone.listen(5)", "outcome": "returned", "result": null,
        "error": null, "notes": ["one paragraph"]
    });
    assert!(validator.is_valid(&good));
    for (field, bad) in [
        ("notes", serde_json::json!(["two\nlines"])),
        ("result", serde_json::json!(5)),
        ("error", serde_json::json!("ECONNRESET")),
        ("label", serde_json::json!("a field of no version")),
        ("tcp_state", serde_json::json!("ESTABLISHED_ISH")),
    ] {
        let mut record = good.clone();
        record[field] = bad;
        assert!(!validator.is_valid(&record), "{field} accepted: {record}");
    }
}

#[test]
fn list_shows_progress_kept_in_the_data_directory() {
    let home = tempfile::tempdir().unwrap();
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let list = |env: &[(&str, &str)]| out(&netlab_in(here, home.path(), env, &["list"]));
    let marks = |text: &str, id: &str| -> String {
        let line = text.lines().find(|l| l.contains(id)).unwrap();
        line[..line.find(id).unwrap()].split_whitespace().collect()
    };
    let fresh = list(&[]);
    assert!(fresh.starts_with("run  verified  lab"), "{fresh}");
    assert_eq!(marks(&fresh, "01-phone-call"), "");
    assert!(fresh.contains("on this machine: 0 of "), "{fresh}");
    assert!(
        fresh.ends_with("next: netlab run 01-phone-call\n"),
        "{fresh}"
    );

    assert!(netlab_in(here, home.path(), &[], &["run", "1"])
        .status
        .success());
    assert!(netlab_in(here, home.path(), &[], &["verify", "2"])
        .status
        .success());
    let after = list(&[]);
    assert_eq!(marks(&after, "01-phone-call"), "✓");
    assert_eq!(marks(&after, "02-loops"), "✓✓");
    assert_eq!(marks(&after, "03-empty-input"), "");
    assert!(
        after.contains("2 of ") && after.contains(", 1 verified"),
        "{after}"
    );
    assert!(home
        .path()
        .join(".local/share/netlab/progress.json")
        .is_file());

    // XDG_DATA_HOME wins over HOME.
    let data = tempfile::tempdir().unwrap();
    let xdg = [("XDG_DATA_HOME", data.path().to_str().unwrap())];
    assert!(netlab_in(here, home.path(), &xdg, &["run", "3"])
        .status
        .success());
    assert!(data.path().join("netlab/progress.json").is_file());
    assert_eq!(marks(&list(&xdg), "03-empty-input"), "✓");

    // --no-progress neither reads nor writes.
    let untouched = tempfile::tempdir().unwrap();
    let output = netlab_in(here, untouched.path(), &[], &["--no-progress", "run", "1"]);
    assert!(output.status.success());
    assert!(std::fs::read_dir(untouched.path())
        .unwrap()
        .next()
        .is_none());
    let plain = out(&netlab_in(
        here,
        home.path(),
        &[],
        &["list", "--no-progress"],
    ));
    assert!(plain.starts_with("01-phone-call"), "{plain}");
}

#[test]
fn a_home_that_cannot_be_written_fails_no_command() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    // Even root cannot make directories under a file or in /proc.
    for home in ["/dev/null", "/proc/self"] {
        for args in [&["run", "1"][..], &["verify", "1"], &["list"]] {
            let output = netlab_in(here, Path::new(home), &[], args);
            assert!(
                output.status.success(),
                "HOME={home} netlab {args:?}: {}",
                err(&output)
            );
            assert_eq!(err(&output), "", "HOME={home} netlab {args:?}");
        }
    }
    let unset = Command::new(env!("CARGO_BIN_EXE_netlab"))
        .args(["run", "1"])
        .env_remove("HOME")
        .env_remove("XDG_DATA_HOME")
        .output()
        .unwrap();
    assert!(unset.status.success());
}
