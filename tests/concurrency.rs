//! Labs 18 and 19, serving many clients at once: what their JSON events show (a thread answers
//! client 2 before client 1 hangs up; a BlockingIOError with errno 11; selectors and
//! select.select returning ready sets), that the Python programs in their folders serve a
//! second client while the first stays connected, and a python3 oracle for the Python values
//! their lines claim. The Python tests say so and pass where python3 is missing.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use netlab::event::Lang;
use netlab::lab::{self, Format};
use serde_json::Value;

/// The event records of a lab's JSON lines (English), in order.
fn events(id: &str) -> Vec<Value> {
    let lab = lab::find(id).expect("the lab exists");
    let json = lab::render_to_string(lab, Lang::En, Format::Json).expect("the lab runs");
    let records: Vec<Value> = json
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is JSON"))
        .collect();
    let end = records.last().expect("a lab_end record");
    assert_eq!(end["outcome"], "completed", "{id}: {end}");
    records
        .into_iter()
        .filter(|r| r["record"] == "event")
        .collect()
}

fn seq(event: &Value) -> u64 {
    event["seq"].as_u64().expect("every event has a seq")
}

/// The first event that `matches`, or a panic that shows the events.
fn first<'a>(events: &'a [Value], what: &str, matches: impl Fn(&Value) -> bool) -> &'a Value {
    events
        .iter()
        .find(|e| matches(e))
        .unwrap_or_else(|| panic!("no event {what} in:\n{}", lines(events)))
}

fn lines(events: &[Value]) -> String {
    events
        .iter()
        .map(|e| {
            format!(
                "{} {} {} -> {} {}",
                e["seq"], e["side"], e["call"], e["result"], e["error"]
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn side(event: &Value) -> &str {
    event["side"].as_str().unwrap_or("")
}

fn call(event: &Value) -> &str {
    event["call"].as_str().unwrap_or("")
}

/// The sockets a select line's result names: `conn2` in `[(sel.get_key(conn2), EVENT_READ)]`,
/// `conn2` in `([conn2], [], [])`.
fn ready_names(result: &str) -> Vec<String> {
    if let Some(rest) = result.strip_prefix("([") {
        let list = &rest[..rest.find(']').expect("a closing bracket")];
        return list
            .split(", ")
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
    }
    result
        .split("get_key(")
        .skip(1)
        .map(|part| part[..part.find(')').expect("a closing parenthesis")].to_string())
        .collect()
}

#[test]
fn lab_18_answers_client_2_while_client_1_is_still_connected() {
    let events = events("18");
    let received = first(
        &events,
        "where a server thread receives client 2's message",
        |e| {
            side(e).starts_with("server thread-")
                && call(e) == "data = conn.recv(1024)"
                && e["result"] == "b'hello from client 2'"
        },
    );
    let hung_up = first(&events, "where client 1 hangs up", |e| {
        side(e) == "client" && call(e) == "client.close()"
    });
    assert!(
        seq(received) < seq(hung_up),
        "client 2's message (line {}) must be received before client 1 closes (line {})",
        seq(received),
        seq(hung_up)
    );
    let client1_thread = first(&events, "where client 1's message is received", |e| {
        call(e) == "data = conn.recv(1024)" && e["result"] == "b'hello from client 1'"
    });
    assert_ne!(
        side(received),
        side(client1_thread),
        "each client is served by its own thread"
    );
    // Between the two, the kernel shows client 1's connection still established, and the
    // thread that serves client 1 blocked in recv().
    let established = first(&events, "showing client 1's connection established", |e| {
        e["kind"] == "kernel"
            && e["probe"]["socket"] == format!("{} conn", side(client1_thread))
            && e["tcp_state"] == "ESTABLISHED"
    });
    assert!(seq(received) < seq(established) && seq(established) < seq(hung_up));
    let waiting = events
        .iter()
        .filter(|e| side(e) == side(client1_thread) && e["outcome"] == "blocked")
        .map(seq)
        .collect::<Vec<_>>();
    let resumed = first(&events, "where client 1's thread reads its b''", |e| {
        side(e) == side(client1_thread) && e["result"] == "b''"
    });
    let blocked_line = resumed["continues"]
        .as_u64()
        .expect("the recv that returns b'' continues a blocked line");
    assert!(
        waiting.contains(&blocked_line) && blocked_line < seq(received),
        "client 1's thread was blocked in recv() (line {blocked_line}) before client 2 was answered"
    );
    // The accept queue is empty while client 1 is connected: the main thread took client 2.
    let queue = first(&events, "an accept queue probe", |e| {
        e["queue"]["accept"].is_number()
    });
    assert_eq!(queue["queue"]["accept"], 0);
    assert!(seq(queue) < seq(hung_up));
}

#[test]
fn lab_18_labels_each_thread_and_every_continued_call_goes_on_from_its_blocked_line() {
    let events = events("18");
    let sides: Vec<&str> = events.iter().map(side).collect();
    for thread in ["server thread-1", "server thread-2"] {
        assert!(sides.contains(&thread), "no line of {thread}");
    }
    let mut continued = 0;
    for event in &events {
        let Some(line) = event["continues"].as_u64() else {
            continue;
        };
        continued += 1;
        let blocked = &events[line as usize - 1];
        assert_eq!(seq(blocked), line);
        assert_eq!(blocked["outcome"], "blocked", "line {line}: {blocked}");
        assert_eq!(side(blocked), side(event), "line {line} and {event}");
        assert_eq!(call(blocked), call(event), "line {line} and {event}");
    }
    assert!(continued >= 4, "only {continued} continued calls");
    // socketserver's request thread: the handler's self.request, then shutdown_request.
    let handler = first(&events, "the handler's recv", |e| {
        call(e) == "data = self.request.recv(1024)"
    });
    let shutdown = first(&events, "socketserver's shutdown_request", |e| {
        call(e) == "request.shutdown(SHUT_WR)"
    });
    assert_eq!(side(handler), side(shutdown));
    assert!(side(handler).starts_with("server thread-"));
}

#[test]
fn lab_19_raises_blocking_io_error_and_its_selects_return_the_ready_sockets() {
    let events = events("19");
    let raised: Vec<&Value> = events
        .iter()
        .filter(|e| e["error"]["exception"] == "BlockingIOError")
        .collect();
    assert!(
        raised.len() >= 3,
        "accept twice and recv once raise:\n{}",
        lines(&events)
    );
    for event in &raised {
        assert_eq!(event["error"]["errno"], 11);
        assert_eq!(event["error"]["errno_name"], "EAGAIN");
        assert_eq!(
            event["error"]["python"],
            "BlockingIOError: [Errno 11] Resource temporarily unavailable"
        );
        assert_eq!(event["outcome"], "raised");
    }
    assert!(raised.iter().any(|e| call(e) == "data = conn1.recv(1024)"));
    assert!(raised
        .iter()
        .any(|e| call(e) == "conn, addr = server.accept()"));

    let selects: Vec<(&Value, Vec<String>)> = events
        .iter()
        .filter(|e| call(e).starts_with("events = sel.select("))
        .map(|e| {
            (
                e,
                ready_names(e["result"].as_str().expect("a select shows its result")),
            )
        })
        .collect();
    let sets: Vec<Vec<String>> = selects.iter().map(|(_, names)| names.clone()).collect();
    assert_eq!(
        sets,
        [
            vec![],
            vec!["server".to_string()],
            vec!["conn2".to_string(), "conn3".to_string()],
            vec!["conn1".to_string()],
        ],
        "the ready sets of sel.select()"
    );
    // Each ready connection is read next, and the hung-up one gives b''.
    let (hang_up, _) = &selects[3];
    let next = &events[seq(hang_up) as usize];
    assert_eq!(call(next), "data = conn1.recv(1024)");
    assert_eq!(next["result"], "b''");

    let classic: Vec<Vec<String>> = events
        .iter()
        .filter(|e| call(e).contains("= select.select("))
        .map(|e| ready_names(e["result"].as_str().expect("a result")))
        .collect();
    assert_eq!(classic, [vec![], vec!["conn2".to_string()]]);
}

#[test]
fn ready_names_read_both_notations() {
    assert_eq!(
        ready_names("[(sel.get_key(conn2), EVENT_READ), (sel.get_key(conn3), EVENT_READ)]"),
        ["conn2", "conn3"]
    );
    assert_eq!(ready_names("[]"), Vec::<String>::new());
    assert_eq!(ready_names("([conn2], [], [])"), ["conn2"]);
    assert_eq!(ready_names("([], [], [])"), Vec::<String>::new());
}

// ---------------------------------------------------------------------------------------
// The Python programs and the oracle
// ---------------------------------------------------------------------------------------

/// python3, if this machine has one.
fn python3() -> Option<&'static str> {
    let works = Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !works {
        eprintln!("skipped: no python3 on this machine");
    }
    works.then_some("python3")
}

fn lab_folder(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("labs")
        .join(name)
}

/// How long a Python program gets for one step before the test fails.
const PATIENCE: Duration = Duration::from_secs(10);

/// A child process killed when the test is done with it (or fails).
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts a Python server on a port the kernel picks, and reads that port from its first
/// line (`serving on ('127.0.0.1', PORT)`).
fn start_server(python: &str, program: &Path) -> (Killed, u16) {
    let mut child = Command::new(python)
        .arg("-u")
        .arg(program)
        .arg("0")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("python3 starts");
    let stdout = child.stdout.take().expect("a piped stdout");
    let child = Killed(child);
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        let _ = reader.read_line(&mut line);
        let _ = tx.send(line);
        // Keep reading, so the server's later prints never meet a closed pipe.
        let _ = std::io::copy(&mut reader, &mut std::io::sink());
    });
    let line = rx
        .recv_timeout(PATIENCE)
        .unwrap_or_else(|_| panic!("{} printed no first line", program.display()));
    let port = line
        .split(", ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{}: no port in {line:?}", program.display()));
    (child, port)
}

/// Sends `message` and reads the answer, within [`PATIENCE`].
fn ask(stream: &mut TcpStream, message: &[u8]) -> Vec<u8> {
    stream.write_all(message).expect("send");
    let mut answer = vec![0; 1024];
    let n = stream
        .read(&mut answer)
        .expect("an answer within the time limit");
    answer.truncate(n);
    answer
}

/// Runs the lab folder's client.py against `port` with `input` on its stdin: its stdout.
fn run_client(python: &str, folder: &Path, port: u16, input: &str) -> String {
    let mut child = Command::new(python)
        .arg(folder.join("client.py"))
        .arg(port.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 starts");
    child
        .stdin
        .take()
        .expect("a piped stdin")
        .write_all(input.as_bytes())
        .expect("the client reads its input");
    let mut stdout = child.stdout.take().expect("a piped stdout");
    let child = Killed(child);
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut out = String::new();
        let _ = stdout.read_to_string(&mut out);
        let _ = tx.send(out);
    });
    let out = rx
        .recv_timeout(PATIENCE)
        .expect("client.py ends within the time limit");
    drop(child);
    out
}

#[test]
fn the_python_servers_answer_a_second_client_while_the_first_stays_connected() {
    let Some(python) = python3() else { return };
    let programs = [
        ("18-threaded-server", "server.py"),
        ("18-threaded-server", "server_socketserver.py"),
        ("19-select-server", "server.py"),
    ];
    for (lab, program) in programs {
        let folder = lab_folder(lab);
        let (_server, port) = start_server(python, &folder.join(program));
        let mut first = TcpStream::connect(("127.0.0.1", port)).expect("client 1 connects");
        first.set_read_timeout(Some(PATIENCE)).unwrap();
        assert_eq!(ask(&mut first, b"one"), b"ONE", "{lab}/{program}");
        // Client 1 stays connected and says nothing; client 2 is answered all the same.
        let out = run_client(python, &folder, port, "hello from client 2\n\nagain\n");
        assert!(
            out.contains("HELLO FROM CLIENT 2") && out.contains("AGAIN"),
            "{lab}/{program}: client.py printed {out:?}"
        );
        assert_eq!(
            ask(&mut first, b"still here"),
            b"STILL HERE",
            "{lab}/{program}"
        );
    }
}

/// A python3 program that makes lab 19's calls on real sockets and checks, at each step,
/// that the Python text the trace shows is what Python itself says: the exception line, and
/// each ready list, evaluated with the program's variables, equals what select() returned.
const LAB_19_ORACLE: &str = r#"
import signal; signal.alarm(30)  # never hang the test
import json, select, selectors, sys
from selectors import EVENT_READ
from socket import *

shown = json.load(sys.stdin)
selects = iter(shown['selectors'])
classic = iter(shown['select'])

def readable(*socks):
    # The oracle's own wait until what the clients sent has arrived (bounded).
    for _ in range(200):
        r, _, _ = select.select(list(socks), [], [], 0.01)
        if len(r) == len(socks):
            return
    raise SystemExit('data did not arrive')

def check(expected, actual, ns):
    value = eval(expected, globals(), ns)
    key = lambda event: event[0].fd
    assert sorted(value, key=key) == sorted(actual, key=key), (expected, actual)

def raised(call):
    try:
        call()
    except BlockingIOError as e:
        return type(e).__name__ + ': ' + str(e)
    raise SystemExit('no BlockingIOError')

server = socket(AF_INET, SOCK_STREAM)
server.bind(('127.0.0.1', 0))
server.listen(5)
server.setblocking(False)
assert raised(server.accept) == shown['python']
sel = selectors.DefaultSelector()
assert type(sel).__name__ == 'EpollSelector'
sel.register(server, EVENT_READ)
ns = {'sel': sel, 'server': server}
check(next(selects), sel.select(timeout=0), ns)
clients = [socket(AF_INET, SOCK_STREAM) for _ in range(3)]
for client in clients:
    client.connect(server.getsockname())
readable(server)
check(next(selects), sel.select(), ns)
for n in (1, 2, 3):
    conn, addr = server.accept()
    assert conn.getblocking()
    conn.setblocking(False)
    sel.register(conn, EVENT_READ)
    ns['conn%d' % n] = conn
assert raised(server.accept) == shown['python']
clients[1].send(b'hello from client 2')
clients[2].send(b'hello from client 3')
readable(ns['conn2'], ns['conn3'])
check(next(selects), sel.select(), ns)
ns['conn2'].recv(1024)
ns['conn3'].recv(1024)
assert raised(lambda: ns['conn1'].recv(1024)) == shown['python']
clients[0].close()
readable(ns['conn1'])
check(next(selects), sel.select(), ns)
assert ns['conn1'].recv(1024) == b''
sel.unregister(ns['conn1'])
ns['conn1'].close()
watched = [server, ns['conn2'], ns['conn3']]
assert eval(next(classic), globals(), ns) == select.select(watched, [], [], 0)
clients[1].send(b'bye from client 2')
readable(ns['conn2'])
assert eval(next(classic), globals(), ns) == select.select(watched, [], [])
print('ok')
"#;

#[test]
fn python_agrees_with_what_lab_19_shows() {
    let Some(python) = python3() else { return };
    let events = events("19");
    let results = |prefix: &str| -> Vec<Value> {
        events
            .iter()
            .filter(|e| call(e).contains(prefix))
            .map(|e| e["result"].clone())
            .collect()
    };
    let raised = first(&events, "a BlockingIOError", |e| {
        e["error"]["exception"] == "BlockingIOError"
    });
    let shown = serde_json::json!({
        "python": raised["error"]["python"],
        "selectors": results("= sel.select("),
        "select": results("= select.select("),
    });
    let out = run_oracle(python, LAB_19_ORACLE, &shown.to_string());
    assert_eq!(out.trim(), "ok");
}

/// What lab 18's notes and socketserver lines say about Python, checked by Python: thread
/// names, and what ThreadingTCPServer does underneath (backlog 5, no SO_REUSEADDR, a
/// PollSelector, a thread whose target is process_request_thread, shutdown(SHUT_WR) after
/// handle()).
const LAB_18_ORACLE: &str = r#"
import signal; signal.alarm(30)  # never hang the test
import selectors, socketserver, sys, threading
from socket import *

if sys.version_info < (3, 10):
    print('ok')  # older Pythons name threads without their target
    raise SystemExit
def talk(conn):
    pass
names = [threading.Thread(target=talk, args=(None,)).name for _ in range(2)]
assert names == ['Thread-1 (talk)', 'Thread-2 (talk)'], names
assert socketserver.TCPServer.request_queue_size == 5
assert not socketserver.ThreadingTCPServer.allow_reuse_address
assert socketserver._ServerSelector is selectors.PollSelector
seen = {}
class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        seen['thread'] = threading.current_thread().name
        data = self.request.recv(1024)
        self.request.send(data.upper())
        seen['eof'] = self.request.recv(1024)
server = socketserver.ThreadingTCPServer(('127.0.0.1', 0), Handler)
assert server.socket.getsockopt(SOL_SOCKET, SO_REUSEADDR) == 0
runner = threading.Thread(target=server.serve_forever, daemon=True)
runner.start()
client = socket(AF_INET, SOCK_STREAM)
client.connect(server.server_address)
client.send(b'hello socketserver')
assert client.recv(1024) == b'HELLO SOCKETSERVER'
client.shutdown(SHUT_WR)
assert client.recv(1024) == b''   # shutdown_request's FIN, after handle() returned
server.shutdown()
server.server_close()
assert seen['eof'] == b''
# Threads 1 and 2 above, 3 runs serve_forever here (the lab's main thread does), 4 is the
# request's.
assert seen['thread'] == 'Thread-4 (process_request_thread)', seen
print('ok')
"#;

#[test]
fn python_agrees_with_what_lab_18_says() {
    let Some(python) = python3() else { return };
    let out = run_oracle(python, LAB_18_ORACLE, "");
    assert_eq!(out.trim(), "ok");
}

/// Runs a python3 program with `input` on its stdin: its stdout, or a panic with its stderr.
fn run_oracle(python: &str, program: &str, input: &str) -> String {
    let mut child = Command::new(python)
        .arg("-c")
        .arg(program)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 starts");
    child
        .stdin
        .take()
        .expect("a piped stdin")
        .write_all(input.as_bytes())
        .expect("python3 reads its input");
    let output = child.wait_with_output().expect("python3 ends");
    assert!(
        output.status.success(),
        "the oracle failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}
