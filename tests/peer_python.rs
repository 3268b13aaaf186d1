//! The Python programs in the lab folders (server.py, client.py) against netlab and against
//! each other: each client against `netlab serve`, each server against `netlab connect`, each
//! pair together. Skipped, with a message, where python3 is not installed (cargo test needs no
//! Python); .ci/run runs it where it is.

mod peer_support;

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use peer_support::*;

/// The longest a Python program may take; it is killed after that.
const LIMIT: Duration = Duration::from_secs(30);

fn python_is_there() -> bool {
    let found = Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success());
    if !found {
        eprintln!(
            "skipped: python3 is not installed, so the lab folders' Python programs were not run"
        );
    }
    found
}

fn program(lab: &str, file: &str) -> PathBuf {
    let lab = netlab::lab::find(lab).unwrap();
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("labs")
        .join(lab.id)
        .join(file)
}

/// `python3 LAB/client.py PORT ARGS` with `input` on its stdin, to its end (killed after
/// [`LIMIT`]). With `pause`, the lines after the first are typed only once the client has
/// answered the first one (its prompt shows again) and a moment has passed, as a person
/// types: netlab sees the client sit idle in between.
fn run_client(lab: &str, port: u16, args: &[&str], input: &str, pause: bool) -> Output {
    let mut child = Command::new("python3")
        .arg(program(lab, "client.py"))
        .arg(port.to_string())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let (chunks_tx, chunks) = mpsc::channel::<Vec<u8>>();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = std::io::Read::read(&mut stdout, &mut buf) {
            if n == 0 || chunks_tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let (first, rest) = match input.split_once('\n') {
        Some((first, rest)) if pause => (format!("{first}\n"), rest.to_string()),
        _ => (input.to_string(), String::new()),
    };
    stdin.write_all(first.as_bytes()).unwrap();
    let mut seen = Vec::new();
    if pause {
        // Two prompts: the client has printed its first answer and waits for a person.
        while seen.windows(10).filter(|w| w == b"command>> ").count() < 2 {
            match chunks.recv_timeout(LIMIT) {
                Ok(chunk) => seen.extend(chunk),
                Err(_) => break,
            }
        }
        std::thread::sleep(Duration::from_millis(200));
        stdin.write_all(rest.as_bytes()).unwrap();
    }
    drop(stdin);
    let (done_tx, done) = mpsc::channel();
    let pid = child.id();
    let waiting = std::thread::spawn(move || {
        let status = child.wait();
        let _ = done_tx.send(());
        status
    });
    if done.recv_timeout(LIMIT).is_err() {
        let _ = Command::new("kill").arg(pid.to_string()).status();
    }
    let status = waiting.join().unwrap().unwrap();
    reader.join().unwrap();
    seen.extend(chunks.try_iter().flatten());
    Output {
        status,
        stdout: seen,
        stderr: Vec::new(),
    }
}

/// `python3 LAB/server.py PORT`, once it says it listens; killed when dropped.
struct PyServer {
    child: Child,
}

impl PyServer {
    fn start(lab: &str, port: u16, input: &str) -> PyServer {
        Self::start_file(lab, "server.py", port, input)
    }

    /// Like [`PyServer::start`] for another server program of the lab's folder.
    fn start_file(lab: &str, file: &str, port: u16, input: &str) -> PyServer {
        let mut child = Command::new("python3")
            .arg(program(lab, file))
            .arg(port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(input.as_bytes()).unwrap();
        drop(stdin);
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            if let Some(Ok(first)) = lines.next() {
                let _ = tx.send(first);
            }
            for _ in lines {} // keep reading, so the server never blocks on a full pipe
        });
        let ready = rx.recv_timeout(LIMIT).expect("the server says it listens");
        // Labs 01 to 12: `listening on 127.0.0.1:PORT`; 18 and 19: `serving on ('127.0.0.1', PORT)`.
        assert!(
            ready.starts_with("listening on 127.0.0.1:") || ready.starts_with("serving on ("),
            "{ready}"
        );
        PyServer { child }
    }
}

impl Drop for PyServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a client types, what its output must hold, and what netlab diagnoses meanwhile.
struct Session {
    lab: &'static str,
    /// A person's pause after the first line (see [`run_client`]).
    pause: bool,
    args: &'static [&'static str],
    input: String,
    shows: Vec<&'static str>,
    diagnoses: &'static [&'static str],
}

fn sessions(upload: &str) -> Vec<Session> {
    let session = |lab, args, input: &str, shows: Vec<&'static str>, diagnoses| Session {
        lab,
        pause: lab == "07",
        args,
        input: input.to_string(),
        shows,
        diagnoses,
    };
    vec![
        session("01", &[], "", vec!["HELLO FROM MY CLIENT"], &[]),
        session("02", &[], "ping\n\npong\n", vec!["PING", "PONG"], &[]),
        session("04", &[], "hi\n", vec!["HI"], &[]),
        session("04", &["reset"], "hi\n", vec!["HI"], &["reset"]),
        // The course's client reads one recv(1024) per command: netlab catches the tail.
        session(
            "07",
            &[],
            "seq 1000 1400\necho hello\n",
            vec!["1000\n1001", "1205\n1206"],
            &["stale_tail"],
        ),
        session(
            "08",
            &[],
            &format!("seq 1000 1400\necho hello\nput {upload}\n"),
            vec![
                "1399\n1400\n",
                "hello\n",
                "ready",
                "received 11 bytes, MD5 ",
            ],
            &[],
        ),
        session(
            "09",
            &[],
            &format!("seq 1000 1400\necho hello\nput {upload}\n"),
            vec!["1399\n1400\n", "hello\n", "ready", "as the header said"],
            &[],
        ),
        session("10", &[], "hello\n", vec!["HELLO"], &[]),
        session("11", &[], "hi there\n", vec!["re: hi there"], &[]),
        session(
            "12",
            &[],
            "\n%Y\n",
            vec!["2001-09-09 01:46:40", "2001\n"],
            &[],
        ),
    ]
}

fn upload_file() -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(b"hello again").unwrap();
    file
}

#[test]
fn each_client_py_against_netlab_serve() {
    if !python_is_there() {
        return;
    }
    let upload = upload_file();
    for s in sessions(&upload.path().display().to_string()) {
        let server = Serving::start(s.lab, &[]);
        let out = run_client(s.lab, server.port, s.args, &s.input, s.pause);
        let text = String::from_utf8_lossy(&out.stdout);
        // Let netlab finish with this client before Ctrl-C (the last lines of a conversation).
        std::thread::sleep(Duration::from_millis(200));
        let done = server.interrupt();
        assert!(
            out.status.success(),
            "lab {} client.py: {:?}\n{}",
            s.lab,
            out.status,
            done.shown()
        );
        for shown in &s.shows {
            assert!(
                text.contains(shown),
                "lab {}: no {shown:?} in:\n{text}",
                s.lab
            );
        }
        done.assert_valid();
        assert_eq!(
            done.diagnoses(),
            s.diagnoses,
            "lab {}: {}",
            s.lab,
            done.shown()
        );
        assert_eq!(done.status.code(), Some(0), "lab {}", s.lab);
    }
}

#[test]
fn each_server_py_against_netlab_connect() {
    if !python_is_there() {
        return;
    }
    for lab in [
        "01", "02", "04", "07", "08", "09", "10", "11", "12", "18", "19",
    ] {
        let port = free_port();
        let _server = PyServer::start(lab, port, "hello netlab\n");
        let done = run_connect(lab, port, &["--wait", "10"]);
        done.assert_valid();
        assert!(done.status.success(), "lab {lab}: {}", done.shown());
        assert!(done.diagnoses().is_empty(), "lab {lab}: {}", done.shown());
    }
}

#[test]
fn each_client_py_against_its_server_py() {
    if !python_is_there() {
        return;
    }
    let upload = upload_file();
    for s in sessions(&upload.path().display().to_string()) {
        if s.input.contains("put ") || s.lab == "11" {
            continue; // put is netlab's addition; the chat server's replies are typed
        }
        let port = free_port();
        let _server = PyServer::start(s.lab, port, "");
        let out = run_client(s.lab, port, s.args, &s.input, s.pause);
        assert!(out.status.success(), "lab {}: {:?}", s.lab, out);
        let text = String::from_utf8_lossy(&out.stdout);
        for shown in s.shows.iter().filter(|s| !s.starts_with("2001")) {
            assert!(
                text.contains(shown),
                "lab {}: no {shown:?} in:\n{text}",
                s.lab
            );
        }
    }
}

/// `python3 LAB/client.py PORT` that connects and waits for its first line of input: its
/// stdin (a line written there is sent), and what it prints, as it prints it.
struct WaitingClient {
    child: Child,
    stdin: std::process::ChildStdin,
    printed: mpsc::Receiver<Vec<u8>>,
}

impl WaitingClient {
    /// Starts the client and waits until it shows its prompt (`>>: `): it has connected.
    fn start(lab: &str, port: u16) -> WaitingClient {
        let mut child = Command::new("python3")
            .arg(program(lab, "client.py"))
            .arg(port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let (tx, printed) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = std::io::Read::read(&mut stdout, &mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        let mut client = WaitingClient {
            child,
            stdin,
            printed,
        };
        client.await_output(">>: ");
        client
    }

    /// Waits until the client has printed `text` (from the start of its output).
    fn await_output(&mut self, text: &str) -> String {
        let mut seen = Vec::new();
        while !String::from_utf8_lossy(&seen).contains(text) {
            match self.printed.recv_timeout(LIMIT) {
                Ok(chunk) => seen.extend(chunk),
                Err(_) => panic!("client.py never printed {text:?}: {seen:?}"),
            }
        }
        String::from_utf8_lossy(&seen).into_owned()
    }

    /// Types `line`, waits for the answer `expected`, then ends the input (Ctrl-D).
    fn say_and_end(mut self, line: &str, expected: &str) -> bool {
        self.stdin
            .write_all(format!("{line}\n").as_bytes())
            .unwrap();
        self.await_output(expected);
        drop(self.stdin);
        self.child.wait().unwrap().success()
    }
}

#[test]
fn client_py_of_18_and_19_twice_at_once_against_netlab_serve() {
    if !python_is_there() {
        return;
    }
    for lab in ["18", "19"] {
        let server = Serving::start(lab, &[]);
        // Client 1 connects and waits for a person to type; client 2 talks meanwhile.
        let waiting = WaitingClient::start(lab, server.port);
        let asked = std::time::Instant::now();
        let out = run_client(lab, server.port, &[], "hello from client 2\n", false);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "lab {lab}: {text}");
        assert!(text.contains("HELLO FROM CLIENT 2"), "lab {lab}: {text}");
        assert!(
            asked.elapsed() < Duration::from_secs(10),
            "lab {lab}: client 2 waited {:?}",
            asked.elapsed()
        );
        assert!(waiting.say_and_end("hello from client 1", "HELLO FROM CLIENT 1"));
        std::thread::sleep(Duration::from_millis(200));
        let done = server.interrupt();
        done.assert_valid();
        assert_eq!(done.status.code(), Some(0), "lab {lab}: {}", done.shown());
        assert!(done.diagnoses().is_empty(), "lab {lab}: {}", done.shown());
        let seq_of = |call: &str| {
            done.events()
                .find(|e| e["call"] == call)
                .and_then(|e| e["seq"].as_u64())
                .unwrap_or_else(|| panic!("lab {lab}: no {call}\n{}", done.shown()))
        };
        assert!(
            seq_of("conn2.send(b'HELLO FROM CLIENT 2')") < seq_of("data = conn1.recv(1024)"),
            "lab {lab}: client 2 answered before client 1 said anything"
        );
    }
}

#[test]
fn the_servers_of_18_and_19_against_netlab_connect_and_lab_02_s_server_is_not_concurrent() {
    if !python_is_there() {
        return;
    }
    for lab in ["18", "19"] {
        let port = free_port();
        let _server = PyServer::start_file("18", "server_socketserver.py", port, "");
        let done = run_connect(lab, port, &["--wait", "10"]);
        done.assert_valid();
        assert!(done.status.success(), "lab {lab}: {}", done.shown());
        assert!(done.diagnoses().is_empty(), "lab {lab}: {}", done.shown());
    }
    for lab in ["18", "19"] {
        let port = free_port();
        let _server = PyServer::start("02", port, "");
        let done = run_connect(lab, port, &["--wait", "2"]);
        done.assert_valid();
        assert_eq!(done.status.code(), Some(1), "lab {lab}: {}", done.shown());
        assert_eq!(
            done.diagnoses(),
            ["not_concurrent"],
            "lab {lab}: {}",
            done.shown()
        );
        let found = done.diagnosis("not_concurrent");
        assert_eq!(found["queue"]["peer_receive"], 19, "{found}");
    }
}

/// A python3 program that makes the calls netlab's event loop shows (labs 18 and 19 in
/// `serve`) and checks that Python returns and raises what those lines say: the ready lists
/// as written, `sel.modify`, the BlockingIOError of an accept loop's last accept, and a
/// non-blocking send to a client that does not read.
const EVENT_LOOP_ORACLE: &str = r#"
import selectors, time, traceback
from selectors import EVENT_READ, EVENT_WRITE
from socket import *

server = socket(AF_INET, SOCK_STREAM)
server.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
server.bind(('127.0.0.1', 0))
server.listen(5)
server.setblocking(False)
sel = selectors.DefaultSelector()
assert type(sel).__name__ == 'EpollSelector'
sel.register(server, EVENT_READ)
client = socket(AF_INET, SOCK_STREAM)
client.setsockopt(SOL_SOCKET, SO_RCVBUF, 4096)
client.connect(server.getsockname())
events = sel.select()
assert events == [(sel.get_key(server), EVENT_READ)], events
conn1, addr = server.accept()
assert addr == client.getsockname()
conn1.setblocking(False)
sel.register(conn1, EVENT_READ)
try:
    conn2, addr = server.accept()
    raise SystemExit('accept on an empty queue returned')
except BlockingIOError as e:
    line = traceback.format_exception_only(e)[0].strip()
    assert line == 'BlockingIOError: [Errno 11] Resource temporarily unavailable', line
client.send(b'hello')
time.sleep(0.05)
events = sel.select()
assert events == [(sel.get_key(conn1), EVENT_READ)], events
data = conn1.recv(1024)
assert data == b'hello'
assert conn1.send(data.upper()) == 5
# The client never reads: a send takes part of an answer, or nothing (BlockingIOError).
while True:
    try:
        if conn1.send(b'X' * 1024) < 1024:
            break
    except BlockingIOError:
        break
sel.modify(conn1, EVENT_WRITE)
assert sel.select(timeout=0.2) == []
client.setblocking(False)
deadline = time.time() + 5
while time.time() < deadline and sel.select(timeout=0) == []:
    try:
        client.recv(1 << 20)
    except BlockingIOError:
        time.sleep(0.01)
events = sel.select(timeout=0)
assert events == [(sel.get_key(conn1), EVENT_WRITE)], events
assert EVENT_READ | EVENT_WRITE == 3
print('ok')
"#;

#[test]
fn python_agrees_with_what_the_event_loop_shows() {
    if !python_is_there() {
        return;
    }
    let out = Command::new("python3")
        .args(["-c", EVENT_LOOP_ORACLE])
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stdout == b"ok\n",
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
