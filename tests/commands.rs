//! The remote-command runner runs only its fixed list: anything else is refused with a clear
//! message before a process exists.

use netlab::commands::{self, CommandError, ALLOWED};
use netlab::event::{Lang, Text};
use netlab::lab::{self, Format, Lab};
use netlab::trace::{LabResult, Trace, TraceOptions};

#[test]
fn listed_commands_run_as_real_processes_with_fixed_output() {
    let before = commands::processes_started();
    let out = commands::run_text(b"echo hello").unwrap();
    assert_eq!(out.stdout, b"hello\n");
    assert_eq!(out.stderr, b"");
    assert_eq!(out.status, Some(0));
    let seq = commands::run_text(b"seq 1000 1400").unwrap();
    let expected: String = (1000..=1400).map(|n| format!("{n}\n")).collect();
    assert_eq!(seq.stdout, expected.as_bytes());
    assert_eq!(seq.stdout.len(), 2005);
    assert_eq!(commands::processes_started(), before + 2);
}

#[test]
fn every_listed_command_runs_and_succeeds() {
    for cmd in ALLOWED {
        let out = commands::run(cmd).unwrap_or_else(|e| panic!("{}: {e}", cmd.text()));
        assert_eq!(out.status, Some(0), "{}", cmd.text());
        let known = commands::known_output(cmd.text().as_bytes());
        assert_eq!(known, Some(out.stdout.clone()), "{}", cmd.text());
        assert!(!out.stdout.is_empty(), "{}", cmd.text());
        assert_eq!(cmd.argv().join(" "), cmd.text());
    }
}

#[test]
fn texts_outside_the_list_are_refused_and_start_no_process() {
    let dir = tempfile::tempdir().unwrap();
    let witness = dir.path().join("ran");
    let touch = format!("touch {}", witness.display());
    let texts: Vec<Vec<u8>> = vec![
        touch.clone().into_bytes(),
        format!("echo hello; {touch}").into_bytes(),
        format!("seq 1 10 && {touch}").into_bytes(),
        b"echo hello ".to_vec(),
        b" echo hello".to_vec(),
        b"echo  hello".to_vec(),
        b"echo hello\n".to_vec(),
        b"ECHO hello".to_vec(),
        b"/bin/echo hello".to_vec(),
        b"seq 1 11".to_vec(),
        b"rm -rf /".to_vec(),
        b"".to_vec(),
        b"\xff\xfe".to_vec(),
    ];
    for text in &texts {
        let before = commands::processes_started();
        let err = commands::run_text(text).unwrap_err();
        assert_eq!(
            commands::processes_started(),
            before,
            "a process was started for {text:?}"
        );
        let CommandError::Refused(refused) = &err else {
            panic!("{text:?} gave {err:?}");
        };
        assert_eq!(&refused.text, text);
        let message = err.to_string();
        assert!(
            message.starts_with("netlab refused to run ")
                && message.contains("no process was started")
                && message.contains("echo hello, seq 1 10"),
            "{message}"
        );
    }
    assert!(!witness.exists(), "a refused command ran");
    let message = commands::run_text(b"rm -rf /").unwrap_err().to_string();
    assert_eq!(
        message,
        "netlab refused to run 'rm -rf /': it runs only the commands on its list \
         (echo hello, seq 1 10, seq 1000 1400, seq 1 100000), so no process was started"
    );
    assert!(commands::run_text(b"\xff")
        .unwrap_err()
        .to_string()
        .contains("run b'\\xff'"));
}

/// A one-off lab that asks a side to run a command that is not listed, then a listed one.
fn probe(t: &Trace) -> LabResult {
    let server = t.side("server");
    let before = commands::processes_started();
    let refused = server.run_command("res", b"cat /etc/passwd");
    t.expect(matches!(refused, Err(CommandError::Refused(_))), "refused")?;
    t.expect(commands::processes_started() == before, "nothing started")?;
    server.run_command("res", b"echo hello")?;
    t.expect(commands::processes_started() == before + 1, "one started")?;
    Ok(())
}

static PROBE: Lab = Lab {
    id: "99-command-probe",
    title: Text::fixed("probe", "probe"),
    lesson: Text::fixed("", ""),
    run: probe,
    peer: None,
    code: &[],
};

#[test]
fn a_side_records_the_refusal_and_the_run() {
    let events = lab::json_events(&PROBE, TraceOptions::default()).unwrap();
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0]["call"], "b'cat /etc/passwd' in ALLOWED_COMMANDS");
    assert_eq!(events[0]["result"], "False");
    assert_eq!(
        events[1]["call"],
        "res = subprocess.run(['echo', 'hello'], capture_output=True)"
    );
    assert_eq!(
        events[1]["process"],
        serde_json::json!({"returncode": 0, "stdout_bytes": 6, "stderr_bytes": 0})
    );
    let text = lab::render_to_string(&PROBE, Lang::En, Format::Text).unwrap();
    // The text renderer wraps the result at 80 columns: compare with the line breaks folded.
    let folded = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        folded.contains(
            "-> False: netlab refuses 'cat /etc/passwd', which is not on its command list; \
             no process was started"
        ),
        "{text}"
    );
    assert!(text.contains("-> returncode 0, stdout 6 bytes, stderr 0 bytes"));
}
