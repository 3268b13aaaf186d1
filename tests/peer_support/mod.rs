//! Driving `netlab serve` and `netlab connect` from a test: the built binary in a child
//! process, on ports the kernel picks (`--port 0`, or a port a test listener holds), so peer
//! tests run in parallel with everything else. The other side is Rust code in the test.

#![allow(dead_code)] // each test file uses its own part of this module

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use rustix::process::{kill_process, Pid, Signal};
use serde_json::Value;

/// The longest a test waits for netlab to say it listens.
const READY_WITHIN: Duration = Duration::from_secs(20);

/// What a finished netlab printed: its JSON lines (`--format json`) and its streams.
pub struct Finished {
    pub status: ExitStatus,
    /// Every JSON line: `lab_start`, the events, `lab_end`.
    pub records: Vec<Value>,
    pub stdout: String,
    pub stderr: String,
}

impl Finished {
    /// The event records, in order.
    pub fn events(&self) -> impl Iterator<Item = &Value> {
        self.records.iter().filter(|r| r["record"] == "event")
    }

    /// The last event: the `netlab` line that ends the session.
    pub fn last_event(&self) -> &Value {
        self.events().last().expect("at least one event")
    }

    /// The `lab_end` record, the last line of every session.
    pub fn end(&self) -> &Value {
        let end = self.records.last().expect("netlab printed something");
        assert_eq!(end["record"], "lab_end", "{}", self.shown());
        end
    }

    /// How the session went, from its `lab_end` record.
    pub fn session(&self) -> &Value {
        &self.end()["session"]
    }

    /// The `diagnosis` codes of the run's events, in order; the `lab_end` record must list
    /// the same.
    pub fn diagnoses(&self) -> Vec<String> {
        let codes: Vec<String> = self
            .events()
            .filter_map(|e| e["diagnosis"].as_str().map(str::to_string))
            .collect();
        assert_eq!(
            self.session()["diagnoses"],
            serde_json::json!(codes),
            "the session's end lists its diagnoses\n{}",
            self.shown()
        );
        codes
    }

    /// The event with diagnosis `code` (the first).
    pub fn diagnosis(&self, code: &str) -> &Value {
        self.events()
            .find(|e| e["diagnosis"] == code)
            .unwrap_or_else(|| panic!("no {code} diagnosis\n{}", self.shown()))
    }

    /// The call events whose Python `call` contains `text`.
    pub fn calls(&self, text: &str) -> Vec<&Value> {
        self.events()
            .filter(|e| e["call"].as_str().is_some_and(|c| c.contains(text)))
            .collect()
    }

    /// The kernel events whose probe read `source` (`FIONREAD`, `TCP_INFO`, `sock_diag` ...),
    /// about `socket` (`server conn`) when given.
    pub fn probes(&self, source: &str, socket: Option<&str>) -> Vec<&Value> {
        self.events()
            .filter(|e| e["kind"] == "kernel" && e["probe"]["source"] == source)
            .filter(|e| socket.map_or(true, |s| e["probe"]["socket"] == s))
            .collect()
    }

    /// The kernel events that read the other program's receive queue from the kernel's table
    /// of connections (`queue.peer_receive`).
    pub fn peer_queues(&self) -> Vec<&Value> {
        self.events()
            .filter(|e| e["kind"] == "kernel" && !e["queue"]["peer_receive"].is_null())
            .collect()
    }

    /// The event numbered `seq`.
    pub fn event(&self, seq: u64) -> &Value {
        self.events()
            .find(|e| e["seq"] == seq)
            .unwrap_or_else(|| panic!("no event {seq}"))
    }

    /// Checks every JSON line against docs/trace.schema.json.
    pub fn assert_valid(&self) {
        for record in &self.records {
            let errors: Vec<String> = schema()
                .iter_errors(record)
                .map(|e| format!("{e} at {}", e.instance_path))
                .collect();
            assert!(errors.is_empty(), "{record}\n{}", errors.join("\n"));
        }
    }

    /// Everything printed, for assertion messages.
    pub fn shown(&self) -> String {
        format!("stdout:\n{}\nstderr:\n{}", self.stdout, self.stderr)
    }
}

/// docs/trace.schema.json, as text.
pub fn schema_text() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/trace.schema.json");
    std::fs::read_to_string(path).expect("docs/trace.schema.json is readable")
}

/// The JSON lines' schema, compiled once.
fn schema() -> &'static jsonschema::Validator {
    static SCHEMA: std::sync::OnceLock<jsonschema::Validator> = std::sync::OnceLock::new();
    SCHEMA.get_or_init(|| {
        let schema: Value = serde_json::from_str(&schema_text()).expect("the schema is JSON");
        jsonschema::validator_for(&schema).expect("the schema is a valid JSON Schema")
    })
}

fn parse_records(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect()
}

fn netlab() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_netlab"));
    command.env("NO_COLOR", "1").env_remove("LANG");
    command
}

/// A running `netlab serve`.
pub struct Serving {
    child: Child,
    pub port: u16,
    stdout: JoinHandle<String>,
    stderr: JoinHandle<String>,
}

/// Reads a pipe to its end on a thread.
fn drain(mut pipe: impl Read + Send + 'static) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = pipe.read_to_string(&mut text);
        text
    })
}

impl Serving {
    /// `netlab serve LAB --port 0 --format json ARGS...`, once it listens.
    pub fn start(lab: &str, args: &[&str]) -> Serving {
        Self::start_in(lab, args, None)
    }

    /// Like [`Serving::start`] with TMPDIR set.
    pub fn start_in(lab: &str, args: &[&str], tmpdir: Option<&std::path::Path>) -> Serving {
        let mut command = netlab();
        command
            .args(["serve", lab, "--port", "0", "--format", "json"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(dir) = tmpdir {
            command.env("TMPDIR", dir);
        }
        let mut child = command.spawn().expect("netlab starts");
        let stdout = drain(child.stdout.take().unwrap());
        // The first line on stderr names the address; the rest is kept.
        let (tx, rx) = mpsc::channel();
        let err = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let mut sent = false;
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if !sent {
                    if let Some(port) = ready_port(&line) {
                        let _ = tx.send(port);
                        sent = true;
                    }
                }
                text.push_str(&line);
                text.push('\n');
            }
            text
        });
        let port = match rx.recv_timeout(READY_WITHIN) {
            Ok(port) => port,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                let err = stderr.join().unwrap_or_default();
                let out = stdout.join().unwrap_or_default();
                panic!("netlab serve {lab} never said it listens:\n{out}\n{err}");
            }
        };
        Serving {
            child,
            port,
            stdout,
            stderr,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The peak resident memory of netlab so far, in KiB (VmHWM).
    pub fn peak_memory_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM in /proc/PID/status")
    }

    /// A connection to the server.
    pub fn dial(&self) -> TcpStream {
        let stream = TcpStream::connect(("127.0.0.1", self.port)).expect("netlab listens");
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        stream
    }

    /// Ctrl-C, then what netlab printed.
    pub fn interrupt(self) -> Finished {
        let pid = Pid::from_raw(self.child.id() as i32).unwrap();
        kill_process(pid, Signal::INT).unwrap();
        self.wait()
    }

    /// Waits for netlab to end by itself (`--once`).
    pub fn wait(mut self) -> Finished {
        let status = self.child.wait().unwrap();
        let stdout = self.stdout.join().unwrap();
        let stderr = self.stderr.join().unwrap();
        Finished {
            status,
            records: parse_records(&stdout),
            stdout,
            stderr,
        }
    }
}

/// The port in netlab's ready line: `... on 127.0.0.1:PORT; ...`.
fn ready_port(line: &str) -> Option<u16> {
    let at = line.find("127.0.0.1:")? + "127.0.0.1:".len();
    let digits: String = line[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// Reads what the peer sends until it closes (or the read times out).
pub fn read_to_end(stream: &mut TcpStream) -> Vec<u8> {
    let mut all = Vec::new();
    let _ = stream.read_to_end(&mut all);
    all
}

/// Reads exactly `n` bytes.
pub fn read_exact(stream: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    stream.read_exact(&mut buf).expect("the bytes arrive");
    buf
}

/// Sends `data`.
pub fn send(stream: &mut TcpStream, data: &[u8]) {
    stream.write_all(data).expect("the bytes are taken");
}

/// Closes with RST instead of FIN (SO_LINGER 0).
pub fn reset(stream: TcpStream) {
    let socket = socket2::Socket::from(stream);
    socket.set_linger(Some(Duration::ZERO)).unwrap();
    drop(socket);
}

/// `netlab connect LAB --port P --format json ARGS...` against a server played by `server`
/// on a listener the test holds (so the port is free of races); returns what netlab printed.
pub fn connect_to<F>(lab: &str, args: &[&str], server: F) -> Finished
where
    F: FnOnce(TcpListener) + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let playing = std::thread::spawn(move || server(listener));
    let finished = run_connect(lab, port, args);
    playing.join().expect("the test's server did not panic");
    finished
}

/// `netlab connect LAB --port PORT --format json ARGS...`, to its end.
pub fn run_connect(lab: &str, port: u16, args: &[&str]) -> Finished {
    let output = netlab()
        .args([
            "connect",
            lab,
            "--port",
            &port.to_string(),
            "--format",
            "json",
        ])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("netlab runs");
    let stdout = String::from_utf8(output.stdout).unwrap();
    Finished {
        status: output.status,
        records: parse_records(&stdout),
        stdout,
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The next connection, if one comes within `limit` (a test's server must not wait forever
/// for a caller netlab never makes).
pub fn accept_within(listener: &TcpListener, limit: Duration) -> Option<TcpStream> {
    listener.set_nonblocking(true).unwrap();
    let deadline = std::time::Instant::now() + limit;
    loop {
        match listener.accept() {
            Ok((conn, _)) => {
                conn.set_nonblocking(false).unwrap();
                return Some(conn);
            }
            Err(_) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(_) => return None,
        }
    }
}

/// Waits (up to 10 s) until more than `n` bytes wait in `stream`'s receive queue.
pub fn await_queue_above(stream: &TcpStream, n: usize) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while std::time::Instant::now() < deadline {
        let queued = rustix::io::ioctl_fionread(stream).unwrap_or(0) as usize;
        if queued > n {
            return;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    panic!("never more than {n} bytes in the receive queue");
}

/// A port nothing listens on: the kernel's pick, released at once.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A UDP server played by the test for `netlab connect`: `answer` gets each datagram and
/// returns the reply (None: no reply). Runs until `netlab connect` ends.
pub fn connect_udp<F>(lab: &str, args: &[&str], mut answer: F) -> Finished
where
    F: FnMut(&[u8]) -> Option<Vec<u8>> + Send + 'static,
{
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = socket.local_addr().unwrap().port();
    socket
        .set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let playing = std::thread::spawn(move || {
        let mut buf = [0u8; 65536];
        while done_rx.try_recv().is_err() {
            if let Ok((n, from)) = socket.recv_from(&mut buf) {
                if let Some(reply) = answer(&buf[..n]) {
                    socket.send_to(&reply, from).unwrap();
                }
            }
        }
    });
    let finished = run_connect(lab, port, args);
    done_tx.send(()).unwrap();
    playing.join().unwrap();
    finished
}
