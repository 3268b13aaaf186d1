//! A live demo (`--step`, `--pace`): the gate holds the engine itself, so the kernel is in the
//! state the screen shows; keys work one at a time on a real terminal (a pseudo-terminal
//! here); `q` and Ctrl-C at the prompt stop the lab cleanly; a paced trace says it is one;
//! text fits the width it is given.

use std::cell::RefCell;
use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::rc::Rc;
use std::time::{Duration, Instant};

use netlab::event::{Event, Text};
use netlab::lab::{self, Ended};
use netlab::recorder::{Gate, Stop, Waypoint};
use netlab::render::Sink;
use netlab::trace::TraceOptions;
use unicode_width::UnicodeWidthStr;

fn netlab() -> Command {
    Command::new(env!("CARGO_BIN_EXE_netlab"))
}

// ---------------------------------------------------------------------------------------
// In the engine: the gate stops a lab where it stands
// ---------------------------------------------------------------------------------------

/// Keeps every event.
struct Keep(Rc<RefCell<Vec<Event>>>);

impl Sink for Keep {
    fn lab_start(&mut self, _id: &str, _title: &Text) -> io::Result<()> {
        Ok(())
    }

    fn event(&mut self, event: &Event) -> io::Result<()> {
        self.0.borrow_mut().push(event.clone());
        Ok(())
    }

    fn lab_end(&mut self, _end: &netlab::render::LabEnd) -> io::Result<()> {
        Ok(())
    }
}

/// Lets the run go on until `shown` events are on screen, then stops it as `q` would.
struct QuitAfter(u32);

impl Gate for QuitAfter {
    fn flag(&self) -> String {
        "--step".to_string()
    }

    fn wait(&mut self, at: Waypoint) -> Result<(), Stop> {
        if at.shown >= self.0 {
            Err(Stop::Quit)
        } else {
            Ok(())
        }
    }
}

/// Runs a lab with real names (`--raw`) until `shown` events, then quits at the gate.
fn run_until(id: &str, shown: u32) -> (Ended, Vec<Event>) {
    let lab = lab::find(id).unwrap();
    let events = Rc::new(RefCell::new(Vec::new()));
    let options = TraceOptions {
        raw: true,
        ..TraceOptions::default()
    };
    let ended = lab::run_live(
        lab,
        options,
        Box::new(Keep(events.clone())),
        Some(Box::new(QuitAfter(shown))),
    )
    .unwrap();
    (ended, events.take())
}

/// The local ports of LISTEN sockets on 127.0.0.1 in the kernel's table.
fn listening_ports() -> HashSet<u16> {
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (addr, port) = fields.get(1)?.split_once(':')?;
            (addr == "0100007F" && fields.get(3) == Some(&"0A"))
                .then(|| u16::from_str_radix(port, 16).ok())?
        })
        .collect()
}

#[test]
fn quitting_at_the_gate_closes_the_labs_sockets_at_once() {
    // Lab 01: socket, bind, listen, then a probe; quit before the probe.
    let (ended, events) = run_until("01", 3);
    assert_eq!(ended, Ended::Stopped(Stop::Quit));
    assert_eq!(events.len(), 3, "the events before the gate are all shown");
    assert_eq!(events[2].call.en, "phone.listen(5)");
    let bound = events[1].outcome.clone();
    let port: u16 = match bound {
        netlab::event::Outcome::Returned(text) => text
            .en
            .trim_end_matches(')')
            .rsplit(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap(),
        other => panic!("bind returned {other:?}"),
    };
    assert!(
        !listening_ports().contains(&port),
        "the listener on port {port} must be closed when run_live returns"
    );
}

#[test]
fn quitting_at_the_gate_removes_the_labs_temporary_directory() {
    // Lab 16: socket, bind (the socket file in TMP), the file probe; quit after it.
    let (ended, events) = run_until("16", 3);
    assert_eq!(ended, Ended::Stopped(Stop::Quit));
    let bind = &events[1].call.en;
    let path = bind
        .split('\'')
        .nth(1)
        .unwrap_or_else(|| panic!("no path in {bind}"));
    let dir = Path::new(path).parent().unwrap();
    assert!(dir.starts_with(std::env::temp_dir()), "{path}");
    assert!(
        !dir.exists(),
        "{} must be gone after the stop",
        dir.display()
    );
}

// ---------------------------------------------------------------------------------------
// On the command line
// ---------------------------------------------------------------------------------------

#[test]
fn step_without_a_terminal_exits_2_with_a_message() {
    for lang in ["en", "zh"] {
        let out = netlab()
            .args(["--lang", lang, "run", "1", "--step"])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(out.stdout.is_empty(), "nothing runs without a terminal");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains("--step") && stderr.contains("--pace"),
            "{stderr}"
        );
    }
}

#[test]
fn a_paced_run_says_so_in_text_and_json() {
    let text = |args: &[&str]| {
        let out = netlab().args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let paced = text(&["run", "1", "--pace", "0"]);
    let header: Vec<&str> = paced.lines().skip(2).take(2).map(str::trim).collect();
    assert_eq!(
        header.join(" "),
        "== paced run (--pace 0): kernel timers ran at human speed; not comparable with the snapshot ==",
    );
    assert!(netlab::snapshot::is_paced(&paced));
    let paced_zh = text(&["--lang", "zh", "run", "1", "--pace", "0"]);
    assert!(netlab::snapshot::is_paced(&paced_zh), "{paced_zh}");
    assert!(paced_zh.contains("== 放慢的运行（--pace 0）"));
    let normal = text(&["run", "1"]);
    assert!(!netlab::snapshot::is_paced(&normal));
    // Apart from its header line, a paced run of lab 01 tells the same story.
    let without_header: String = paced
        .lines()
        .filter(|l| !l.starts_with("== paced") && !l.ends_with("snapshot =="))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(without_header, normal);

    // Every event and the lab_end record say so (lab_start is written before the run is
    // known to be live).
    let json = text(&["run", "1", "--pace", "0", "--format", "json"]);
    for line in json.lines() {
        let event: serde_json::Value = serde_json::from_str(line).unwrap();
        if event["record"] != "lab_start" {
            assert_eq!(event["paced"], "--pace 0", "{line}");
        }
    }
    let json = text(&["run", "1", "--format", "json"]);
    for line in json.lines() {
        let event: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(event.get("paced").is_none(), "{line}");
    }
}

#[test]
fn width_wraps_every_line() {
    for lang in ["en", "zh"] {
        let out = netlab()
            .args(["--lang", lang, "run", "--all", "--width", "60"])
            .output()
            .unwrap();
        assert!(out.status.success());
        for line in String::from_utf8(out.stdout).unwrap().lines() {
            assert!(line.width() <= 60, "{} columns: {line}", line.width());
        }
    }
}

/// Every note of every lab, laid out at several widths, breaks only where a line may break:
/// at a space, or between CJK characters; never inside an English word, and never before
/// closing punctuation. Nothing is lost or added but the spaces at the breaks.
#[test]
fn notes_break_only_between_words() {
    use netlab::render::wrap::{lay_out, Style};
    let no_start = "，。、；：？！）」』”》";
    for lab in lab::all() {
        let recording = lab::record(lab, TraceOptions::default()).unwrap();
        for event in &recording.events {
            for note in &event.notes {
                for text in [&note.en, &note.zh] {
                    for width in [60, 80, 100] {
                        let lines = lay_out(text, Style::Prose, 16, 16, width);
                        let squeeze = |s: &str| s.split_whitespace().collect::<String>();
                        assert_eq!(
                            squeeze(&lines.concat()),
                            squeeze(text),
                            "{}: text changed at width {width}",
                            lab.id
                        );
                        for pair in lines.windows(2) {
                            let (a, b) = (pair[0].trim_end(), pair[1].trim_start());
                            let (Some(end), Some(start)) = (a.chars().last(), b.chars().next())
                            else {
                                continue;
                            };
                            assert!(
                                !no_start.contains(start),
                                "{}: a line starts with {start:?}: {b}",
                                lab.id
                            );
                            if end.is_ascii_alphanumeric() && start.is_ascii_alphanumeric() {
                                let tail: String = a.split_whitespace().last().unwrap().into();
                                let head: String = b.split_whitespace().next().unwrap().into();
                                assert!(
                                    text.contains(&format!("{tail} {head}"))
                                        || text.contains(&format!("{tail}\n{head}")),
                                    "{}: a word is broken at width {width}: {tail:?} / {head:?}",
                                    lab.id
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// On a terminal: keys one at a time, the kernel in step with the screen
// ---------------------------------------------------------------------------------------

/// A pseudo-terminal: netlab's stdin, stdout and stderr are its other end.
struct Terminal {
    master: File,
    output: Vec<u8>,
    child: Child,
    tmp: tempfile::TempDir,
}

/// How long any one thing on the terminal may take before the test gives up.
const PATIENCE: Duration = Duration::from_secs(20);

impl Terminal {
    fn start(args: &[&str]) -> Terminal {
        use rustix::pty::{grantpt, openpt, ptsname, unlockpt, OpenptFlags};
        let master: OwnedFd =
            openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC).unwrap();
        grantpt(&master).unwrap();
        unlockpt(&master).unwrap();
        let name = ptsname(&master, Vec::new()).unwrap();
        rustix::termios::tcsetwinsize(
            &master,
            rustix::termios::Winsize {
                ws_row: 40,
                ws_col: 100,
                ws_xpixel: 0,
                ws_ypixel: 0,
            },
        )
        .unwrap();
        let slave = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NOCTTY)
            .open(PathBuf::from(name.to_str().unwrap()))
            .unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let child = netlab()
            .args(args)
            .env("TMPDIR", tmp.path())
            .stdin(slave.try_clone().unwrap())
            .stdout(slave.try_clone().unwrap())
            .stderr(slave)
            .spawn()
            .unwrap();
        Terminal {
            master: File::from(master),
            output: Vec::new(),
            child,
            tmp,
        }
    }

    /// Reads what netlab prints until `text` has appeared.
    fn wait_for(&mut self, text: &str) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if find(&self.output, text.as_bytes()).is_some() {
                return;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "no {text:?} on the terminal after {PATIENCE:?}; it shows:\n{}",
                String::from_utf8_lossy(&self.output)
            );
            if !self.read_some(left) {
                panic!(
                    "the terminal closed before {text:?}; it showed:\n{}",
                    String::from_utf8_lossy(&self.output)
                );
            }
        }
    }

    /// Waits up to `limit` for output and appends it; false once netlab's end is closed.
    fn read_some(&mut self, limit: Duration) -> bool {
        use rustix::event::{poll, PollFd, PollFlags, Timespec};
        let mut fds = [PollFd::new(&self.master, PollFlags::IN)];
        let timeout = Timespec::try_from(limit.min(Duration::from_millis(200))).unwrap();
        match poll(&mut fds, Some(&timeout)) {
            Ok(0) | Err(rustix::io::Errno::INTR) => return true,
            Ok(_) => {}
            Err(err) => panic!("poll: {err}"),
        }
        let mut buf = [0u8; 4096];
        match self.master.read(&mut buf) {
            Ok(0) => false,
            Ok(n) => {
                self.output.extend_from_slice(&buf[..n]);
                true
            }
            // EIO: every copy of the terminal's other end is closed (netlab ended).
            Err(_) => false,
        }
    }

    fn press(&mut self, keys: &[u8]) {
        self.master.write_all(keys).unwrap();
        self.master.flush().unwrap();
    }

    /// netlab's exit status, reading its last output meanwhile.
    fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                while self.read_some(Duration::from_millis(50)) {}
                return status;
            }
            assert!(Instant::now() < deadline, "netlab did not exit");
            self.read_some(Duration::from_millis(50));
        }
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.output).into_owned()
    }

    /// Ports netlab's own process listens on, from its fds and the kernel's table.
    fn listening_ports_of_netlab(&self) -> HashSet<u16> {
        let pid = self.child.id();
        let inodes: HashSet<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
            .unwrap()
            .filter_map(|entry| std::fs::read_link(entry.ok()?.path()).ok())
            .filter_map(|target| {
                let target = target.to_string_lossy().into_owned();
                let inode = target.strip_prefix("socket:[")?.strip_suffix(']')?;
                Some(inode.to_string())
            })
            .collect();
        let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
        table
            .lines()
            .skip(1)
            .filter_map(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                let listening = fields.get(3) == Some(&"0A");
                let inode = fields.get(9)?;
                let port = fields.get(1)?.split_once(':')?.1;
                (listening && inodes.contains(*inode))
                    .then(|| u16::from_str_radix(port, 16).ok())?
            })
            .collect()
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn leftovers(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect()
}

#[test]
fn step_holds_the_kernel_where_the_screen_is_and_q_ends_cleanly() {
    let mut term = Terminal::start(&["run", "01", "--step", "--color", "never"]);
    // Space steps over socket() and bind(); listen() has not happened yet.
    term.wait_for("next: event 1");
    term.press(b" ");
    term.wait_for("next: event 2");
    term.press(b"\x1b[C");
    term.wait_for("next: event 3");
    assert!(term.screen().contains("phone.bind(('127.0.0.1', 0))"));
    assert!(!term.screen().contains("phone.listen(5)"));
    assert!(
        term.listening_ports_of_netlab().is_empty(),
        "before the listen event is shown, netlab listens nowhere"
    );
    term.press(b"\r");
    term.wait_for("next: event 4");
    assert!(term.screen().contains("phone.listen(5)"));
    assert_eq!(
        term.listening_ports_of_netlab().len(),
        1,
        "once the listen event is shown, netlab listens"
    );
    // Enter leaves no blank line: the events follow one another.
    assert!(!term.screen().contains("\r\n\r\n  3"), "{}", term.screen());
    term.press(b"q");
    let status = term.wait_exit();
    assert_eq!(status.code(), Some(0), "{}", term.screen());
    assert!(
        term.screen().contains("stopped after event 3"),
        "{}",
        term.screen()
    );
    assert!(leftovers(term.tmp.path()).is_empty());
}

#[test]
fn q_in_a_lab_with_files_leaves_no_temporary_entry() {
    let mut term = Terminal::start(&["run", "16", "--step", "--color", "never"]);
    // `c` runs the first section (socket, bind, file probe, listen) to its end.
    term.wait_for("next: event 1");
    term.press(b"c");
    term.wait_for("next: event 5");
    let made = leftovers(term.tmp.path());
    assert_eq!(
        made.len(),
        1,
        "the lab's temporary directory exists: {made:?}"
    );
    term.press(b"\x1b");
    let status = term.wait_exit();
    assert_eq!(status.code(), Some(0), "{}", term.screen());
    assert!(
        leftovers(term.tmp.path()).is_empty(),
        "Esc removed the socket file and its directory"
    );
}

#[test]
fn ctrl_c_at_the_prompt_stops_cleanly_with_status_130() {
    let mut term = Terminal::start(&["--lang", "zh", "run", "16", "--step", "--color", "never"]);
    term.wait_for("下一个：第 1 个事件");
    term.press(b"\r");
    term.wait_for("下一个：第 2 个事件");
    term.press(b"\r");
    term.wait_for("下一个：第 3 个事件");
    term.press(b"\x03");
    let status = term.wait_exit();
    assert_eq!(status.code(), Some(130), "{}", term.screen());
    assert!(leftovers(term.tmp.path()).is_empty());
}

#[test]
fn verify_refuses_a_paced_run_with_a_reason() {
    for flag in [&["--step"][..], &["--pace", "300"][..]] {
        let out = netlab().args(["verify", "1"]).args(flag).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("not comparable"), "{stderr}");
    }
}

/// Whether the terminal is in its usual mode: lines edited, keys echoed.
fn cooked(term: &Terminal) -> bool {
    use rustix::termios::{tcgetattr, LocalModes};
    let modes = tcgetattr(&term.master).unwrap().local_modes;
    modes.contains(LocalModes::ICANON | LocalModes::ECHO | LocalModes::ISIG)
}

#[test]
fn the_terminal_is_put_back_after_q_and_after_a_signal() {
    let mut term = Terminal::start(&["run", "01", "--step", "--color", "never"]);
    term.wait_for("next: event 1");
    assert!(!cooked(&term), "keys are read one at a time, without echo");
    term.press(b"q");
    assert_eq!(term.wait_exit().code(), Some(0));
    assert!(cooked(&term), "q puts the terminal back");

    let mut term = Terminal::start(&["run", "01", "--step", "--color", "never"]);
    term.wait_for("next: event 1");
    term.press(b" ");
    term.wait_for("next: event 2");
    let pid = rustix::process::Pid::from_child(&term.child);
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
    assert_eq!(term.wait_exit().code(), Some(143), "{}", term.screen());
    assert!(
        cooked(&term),
        "the clean-up on SIGTERM puts the terminal back"
    );
}
