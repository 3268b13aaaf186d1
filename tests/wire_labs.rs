//! The labs with `--wire`, as a student runs them: the built `netlab` binary in a child process
//! (it makes its private network namespace first thing, which a test process, with its
//! threads, could not), its output compared with the wire snapshots
//! (snapshots/NN-name.wire.snap and .wire.zh.snap, managed by insta like the others).
//!
//! Also: the JSON of wire lines, the same trace for an unprivileged user, and what a machine
//! that refuses namespaces gets (exit 2 and one sentence, and everything else unchanged).
//!
//! Its own `main` (harness = false) so that a test this machine cannot run is reported as
//! skipped, with the reason: where the kernel refuses namespaces, every wire test says so.
//! Arguments filter the tests by name, as with cargo's harness.

mod harness;
use harness::TestResult;

use std::panic::{self, AssertUnwindSafe};
use std::process::{Command, ExitCode, Output};
use std::sync::Mutex;

use netlab::event::Lang;
use netlab::lab;
use netlab::snapshot;

const NETLAB: &str = env!("CARGO_BIN_EXE_netlab");

/// Labs whose packets depend on a timer the lab cannot wait for, so their wire output is not
/// the same from run to run: no wire snapshot, and the reason.
/// Labs whose wire lines are not the same on every run, with the reason.
const NOT_SNAPSHOTTED: &[(&str, &str)] = &[
    (
        "14-send-vs-sendall",
        "while recv(MSG_WAITALL) drains 1 MiB, how the sender's kernel cuts the rest into \
         segments (2048 or 4096 bytes) depends on how fast the reader empties its queue, which \
         differs from run to run",
    ),
    (
        "19-select-server",
        "the segments of its send() to a slow reader follow the reader's window, which depends \
         on the kernel's buffer accounting (the figures the lab names SENT, OUTQ and INQ), and a \
         zero window left open may draw probes from the persist timer",
    ),
];

/// A test of this file that is not a lab's snapshot.
type Named = (&'static str, fn() -> TestResult);

struct Test {
    name: String,
    run: Box<dyn Fn() -> TestResult + Send + Sync>,
}

fn netlab(args: &[&str]) -> Output {
    Command::new(NETLAB)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("the netlab binary runs")
}

/// The reason `--wire` cannot work here, when netlab says so (exit 2 and its sentence).
fn refused(output: &Output) -> Option<String> {
    let stderr = String::from_utf8_lossy(&output.stderr);
    (output.status.code() == Some(2) && stderr.starts_with("netlab: --wire needs"))
        .then(|| stderr.trim().to_string())
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// One lab with `--wire` in one language against its wire snapshot.
fn snapshot_test(id: &'static str, lang: Lang) -> TestResult {
    let output = netlab(&["run", id, "--wire", "--lang", lang.code()]);
    if let Some(reason) = refused(&output) {
        return Ok(Some(reason));
    }
    if !output.status.success() {
        return Err(format!(
            "netlab run {id} --wire exited with {}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let trace = stdout(&output);
    let name = snapshot::wire_stem(id, lang);
    panic::catch_unwind(AssertUnwindSafe(|| {
        insta::with_settings!({
            snapshot_path => "../snapshots",
            prepend_module_to_snapshot => false,
            omit_expression => true,
        }, {
            insta::assert_snapshot!(name.as_str(), trace);
        });
    }))
    .map(|()| None)
    .map_err(|_| format!("{id}: the trace differs from snapshots/{name}.snap (see above)"))
}

/// `--format json`: every wire line is an event of kind "wire" whose `wire` object carries the
/// facts its text shows.
fn json_wire_events() -> TestResult {
    let output = netlab(&["run", "17", "--wire", "--format", "json"]);
    if let Some(reason) = refused(&output) {
        return Ok(Some(reason));
    }
    let mut wire_events = 0;
    let mut seq = 0;
    for line in stdout(&output).lines() {
        let event: serde_json::Value =
            serde_json::from_str(line).map_err(|e| format!("not JSON ({e}): {line}"))?;
        if event["record"] != "event" {
            continue; // lab_start, lab_end
        }
        seq += 1;
        if event["seq"] != seq {
            return Err(format!("seq out of order at {line}"));
        }
        if event["kind"] != "wire" {
            if event.get("wire").is_some() {
                return Err(format!(
                    "a {} event with wire fields: {line}",
                    event["kind"]
                ));
            }
            continue;
        }
        wire_events += 1;
        let wire = &event["wire"];
        let named = |field: &str| wire[field].as_str().is_some_and(|s| !s.is_empty());
        if event["side"] != "wire"
            || !event["call"].is_null()
            || wire["protocol"] != "tcp"
            || !["src", "dst", "flags", "src_port", "dst_port"]
                .iter()
                .all(|field| named(field))
            || !wire["length"].is_u64()
        {
            return Err(format!("the fields of a wire event are wrong: {line}"));
        }
    }
    if wire_events < 20 {
        return Err(format!("only {wire_events} wire events"));
    }
    Ok(None)
}

/// The port names in JSON: PORT and CLIENT_PORT_1 for lab 01's handshake.
fn json_ports_have_stable_names() -> TestResult {
    let output = netlab(&["run", "1", "--wire", "--format", "json"]);
    if let Some(reason) = refused(&output) {
        return Ok(Some(reason));
    }
    let first_wire = stdout(&output)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find(|event| event["kind"] == "wire")
        .ok_or("no wire event")?;
    let wire = &first_wire["wire"];
    let shown = (
        &wire["src"],
        &wire["src_port"],
        &wire["dst"],
        &wire["dst_port"],
    );
    if shown.0 == "client" && shown.1 == "CLIENT_PORT_1" && shown.2 == "server" && shown.3 == "PORT"
    {
        Ok(None)
    } else {
        Err(format!("the first wire event is {first_wire}"))
    }
}

/// Without `--wire`, nothing changes: no wire line, and `verify` agrees with the snapshots.
fn without_wire_there_is_no_wire_line() -> TestResult {
    let output = netlab(&["run", "17"]);
    let trace = stdout(&output);
    if !output.status.success() || trace.contains(" wire ") {
        return Err(format!("netlab run 17: {}\n{trace}", output.status));
    }
    match snapshot::published("17-handshake-and-close", Lang::En) {
        Some(published) if published == trace => Ok(None),
        _ => Err("netlab run 17 differs from snapshots/17-handshake-and-close.snap".into()),
    }
}

/// `verify --wire` compares with the wire snapshot, and reports a lab without one as missing.
fn verify_compares_with_the_wire_snapshot() -> TestResult {
    let output = netlab(&["verify", "7", "--wire"]);
    if let Some(reason) = refused(&output) {
        return Ok(Some(reason));
    }
    let text = stdout(&output);
    if !output.status.success()
        || !text.contains("07-sticky-packet.wire: same as ")
        || !text.contains("07-sticky-packet.wire.snap")
    {
        return Err(format!("netlab verify 7 --wire: {}: {text}", output.status));
    }
    // A snapshot directory without the wire snapshot: verify says it is missing (exit 1).
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let plain = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/snapshots/07-sticky-packet.snap"
    );
    std::fs::copy(plain, dir.path().join("07-sticky-packet.snap")).map_err(|e| e.to_string())?;
    let dir_arg = dir.path().to_string_lossy().into_owned();
    let missing = netlab(&["verify", "7", "--wire", "--snapshots", &dir_arg]);
    if missing.status.code() != Some(1) || !stdout(&missing).contains("MISSING") {
        return Err(format!(
            "netlab verify 7 --wire --snapshots (no wire snapshot): {}: {}",
            missing.status,
            stdout(&missing)
        ));
    }
    Ok(None)
}

/// As an ordinary user (uid 65534 via setpriv, when the tests run as root; otherwise the tests
/// already run as one): the same trace as the snapshot.
fn an_unprivileged_user_gets_the_same_trace() -> TestResult {
    let root = std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .any(|line| line.starts_with("Uid:") && line.split_whitespace().nth(2) == Some("0"));
    if !root {
        return Ok(Some(
            "the tests run as an ordinary user already: every wire test is that case".into(),
        ));
    }
    let Some(setpriv) = which("setpriv") else {
        return Ok(Some("setpriv (util-linux) is not installed".into()));
    };
    if let Some(closed) = std::path::Path::new(NETLAB)
        .ancestors()
        .find(|path| !others_may_execute(path))
    {
        return Ok(Some(format!(
            "uid 65534 may not execute {NETLAB} ({} is closed to others)",
            closed.display()
        )));
    }
    let output = Command::new(setpriv)
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", NETLAB])
        .args(["run", "17", "--wire"])
        .env("NO_COLOR", "1")
        .output()
        .map_err(|e| e.to_string())?;
    if let Some(reason) = refused(&output) {
        return Ok(Some(format!("as uid 65534: {reason}")));
    }
    let expected = snapshot::published_stem("17-handshake-and-close.wire");
    if output.status.success() && expected.as_deref() == Some(stdout(&output).as_str()) {
        Ok(None)
    } else {
        Err(format!(
            "as uid 65534: {}: {}{}",
            output.status,
            stdout(&output),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// Inside `unshare -rU` with both namespace limits set to 0 (a machine that refuses): `--wire`
/// exits 2 with one sentence naming the setting, in the asked language, and the default output
/// is the published snapshot.
fn a_refused_namespace_is_one_sentence_and_exit_2() -> TestResult {
    let Some(unshare) = which("unshare") else {
        return Ok(Some("unshare (util-linux) is not installed".into()));
    };
    if !Command::new(&unshare)
        .args(["-rU", "true"])
        .output()
        .is_ok_and(|out| out.status.success())
    {
        return Ok(Some("`unshare -rU` is refused here".into()));
    }
    let limited = |args: &[&str]| -> Result<Output, String> {
        Command::new(&unshare)
            .args(["-rU", "sh", "-c"])
            .arg(
                "echo 0 > /proc/sys/user/max_user_namespaces && \
                 echo 0 > /proc/sys/user/max_net_namespaces && exec \"$0\" \"$@\"",
            )
            .arg(NETLAB)
            .args(args)
            .env("NO_COLOR", "1")
            .output()
            .map_err(|e| e.to_string())
    };
    let cases = [
        (
            "en",
            "netlab: --wire needs a private network namespace, but the kernel refused to create \
             a network namespace (ENOSPC) because user.max_net_namespaces=0; \
             `sudo sysctl user.max_net_namespaces=1000` allows it.",
        ),
        (
            "zh",
            "netlab: --wire 需要一个私有的网络命名空间，但内核拒绝创建网络命名空间（ENOSPC）：\
             原因是 user.max_net_namespaces=0；执行 `sudo sysctl user.max_net_namespaces=1000` 即可。",
        ),
    ];
    for (lang, expected) in cases {
        for command in [["run", "17"], ["verify", "17"]] {
            let output = limited(&[command[0], command[1], "--wire", "--lang", lang])?;
            let stderr = String::from_utf8_lossy(&output.stderr);
            if output.status.code() != Some(2)
                || stderr.trim_end() != expected
                || !output.stdout.is_empty()
            {
                return Err(format!(
                    "{command:?} --wire --lang {lang} with both limits 0: {} {stderr:?}",
                    output.status
                ));
            }
        }
    }
    let plain = limited(&["run", "17"])?;
    match snapshot::published("17-handshake-and-close", Lang::En) {
        Some(published) if plain.status.success() && stdout(&plain) == published => Ok(None),
        _ => Err(format!(
            "without --wire, where namespaces are refused: {}: {}",
            plain.status,
            String::from_utf8_lossy(&plain.stderr)
        )),
    }
}

fn others_may_execute(path: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.as_os_str().is_empty()
        || std::fs::metadata(path).is_ok_and(|meta| meta.permissions().mode() & 0o001 != 0)
}

fn which(program: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| std::path::Path::new(dir).join(program))
        .find(|path| path.is_file())
}

fn tests() -> Vec<Test> {
    let mut tests = Vec::new();
    for lab in lab::all() {
        let id = lab.id;
        if let Some((_, reason)) = NOT_SNAPSHOTTED.iter().find(|(lab, _)| *lab == id) {
            let reason = format!("no wire snapshot: {reason}");
            tests.push(Test {
                name: format!("{id}::wire_snapshot"),
                run: Box::new(move || Ok(Some(reason.clone()))),
            });
            continue;
        }
        for lang in [Lang::En, Lang::Zh] {
            tests.push(Test {
                name: format!("{id}::wire_snapshot_{}", lang.code()),
                run: Box::new(move || snapshot_test(id, lang)),
            });
        }
    }
    let named: [Named; 7] = [
        ("json_wire_events", json_wire_events),
        ("json_ports_have_stable_names", json_ports_have_stable_names),
        (
            "without_wire_there_is_no_wire_line",
            without_wire_there_is_no_wire_line,
        ),
        (
            "verify_compares_with_the_wire_snapshot",
            verify_compares_with_the_wire_snapshot,
        ),
        (
            "an_unprivileged_user_gets_the_same_trace",
            an_unprivileged_user_gets_the_same_trace,
        ),
        (
            "a_refused_namespace_is_one_sentence_and_exit_2",
            a_refused_namespace_is_one_sentence_and_exit_2,
        ),
        ("every_lab_runs_with_wire_all", every_lab_runs_with_wire_all),
    ];
    for (name, run) in named {
        tests.push(Test {
            name: name.to_string(),
            run: Box::new(run),
        });
    }
    tests
}

/// `run --all --wire`: every lab runs to the end in one namespace, one after the other.
fn every_lab_runs_with_wire_all() -> TestResult {
    let output = netlab(&["run", "--all", "--wire"]);
    if let Some(reason) = refused(&output) {
        return Ok(Some(reason));
    }
    let trace = stdout(&output);
    let labs = trace.lines().filter(|l| l.starts_with("netlab ")).count();
    if output.status.success() && labs == lab::all().len() {
        Ok(None)
    } else {
        Err(format!(
            "netlab run --all --wire: {}, {labs} labs: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

fn main() -> ExitCode {
    let filters = harness::filters();
    let tests: Vec<Test> = tests()
        .into_iter()
        .filter(|t| harness::selected(&filters, &t.name))
        .collect();
    // Two at a time: each child is a whole netlab run.
    let next = Mutex::new(tests.iter());
    let results = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| loop {
                let Some(test) = next.lock().unwrap().next() else {
                    break;
                };
                let result = (test.run)();
                results.lock().unwrap().push((test.name.clone(), result));
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by(|a, b| a.0.cmp(&b.0));
    harness::report(results)
}
