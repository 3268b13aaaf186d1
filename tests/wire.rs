//! The wire layer on real sockets in a private network namespace: which segments a TCP
//! conversation and a few UDP datagrams put on lo, and when each one is in the capture relative
//! to the syscall that caused it.
//!
//! A test binary under cargo's harness has threads, and the kernel makes a user namespace only
//! for a single-threaded process. So this file has its own `main` (harness = false in
//! Cargo.toml): run by cargo, it spawns itself with `NETLAB_WIRE_CHILD` naming a scenario; the
//! child enters the namespace first thing, runs the scenario and prints what it saw, and the
//! parent checks the report. Where this machine refuses namespaces the child exits 2 with
//! netlab's sentence, and the test is reported as skipped with that sentence.
//!
//! `NETLAB_WIRE_RUNS=20` repeats the conversation and the settled exchange (default 3);
//! `NETLAB_WIRE_VERBOSE=1` prints each child's report and how long each wait for the kernel took
//! (on stderr). Arguments filter the tests by name, as with cargo's harness.

mod harness;
use harness::TestResult;

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::process::{Command, ExitCode, Output};
use std::time::{Duration, Instant};

use netlab::wire::netns::{enter, How};
use netlab::wire::{Capture, Naming, Notation, Style};
use socket2::{Domain, SockAddr, Socket, Type};

const CHILD: &str = "NETLAB_WIRE_CHILD";

/// A wait for the kernel is bounded by this; it is reached only when something is wrong.
const WAIT_LIMIT: Duration = Duration::from_secs(2);

/// How long the child keeps listening after its last step for anything a timer sends later
/// (a delayed ACK fires within 40 to 200 ms, TCP_DELACK_MIN to TCP_DELACK_MAX).
const LATE_WINDOW: Duration = Duration::from_millis(300);

fn main() -> ExitCode {
    match std::env::var(CHILD) {
        Ok(scenario) => child(&scenario),
        Err(_) => parent(),
    }
}

// ---------------------------------------------------------------- the child

fn child(scenario: &str) -> ExitCode {
    let how = match std::env::var("NETLAB_WIRE_HOW").as_deref() {
        Ok("user") => How::UserAndNetwork,
        _ => How::Auto,
    };
    // A thread started before the namespace, to show the kernel's refusal.
    let _parked = (scenario == "enter-threaded").then(|| {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || rx.recv());
        (tx, thread)
    });
    let entered = match enter(how) {
        Ok(entered) => entered,
        Err(refused) => {
            eprintln!("{refused}");
            return ExitCode::from(2);
        }
    };
    let result = match scenario {
        "enter" | "enter-threaded" => {
            println!("entered: {entered:?}");
            Ok(())
        }
        "conversation" => conversation(),
        "udp" => udp(),
        "echo" => echo(Duration::ZERO, false),
        "echo-paced" => echo(Duration::from_millis(100), false),
        "echo-acked" => echo(Duration::ZERO, true),
        "bulk" => bulk(),
        "resets" => resets(),
        other => Err(io::Error::other(format!("no scenario {other:?}"))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("child failed: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Shows the ends of the conversation as `client` and `server`, and a port where nothing is
/// bound as `closed`.
struct Sides {
    server: u16,
    client: u16,
    closed: u16,
}

impl Naming for Sides {
    fn endpoint(&self, addr: SocketAddrV4) -> String {
        if addr.port() == self.server {
            "server".into()
        } else if addr.port() == self.client {
            "client".into()
        } else if addr.port() == self.closed {
            "closed".into()
        } else {
            format!("{}.{}", addr.ip(), addr.port())
        }
    }
    fn port(&self, port: u16) -> String {
        self.endpoint(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port))
    }
    fn host(&self, _ip: Ipv4Addr) -> String {
        "kernel".into()
    }
}

/// What shows that a step is complete, and the test for it on the TCP table.
type Settled<'a> = (&'a str, &'a dyn Fn(&[Tcp]) -> bool);

/// Writes the report: what the capture held right after each syscall returned, and what came
/// while waiting for the kernel state that shows a step complete.
struct Report {
    capture: Capture,
    notation: Notation,
    naming: Sides,
    out: String,
}

impl Report {
    fn new(naming: Sides) -> io::Result<Report> {
        Ok(Report {
            capture: Capture::loopback()?,
            notation: Notation::new(),
            naming,
            out: String::new(),
        })
    }

    /// Appends the packets captured since the previous call under `heading`.
    fn packets(&mut self, heading: &str) -> io::Result<()> {
        let drained = self.capture.drain()?;
        self.out.push_str(&format!("{heading}\n"));
        for packet in drained.packets {
            let line = match packet {
                Ok(packet) => self
                    .notation
                    .wire(packet)
                    .text(&self.naming, Style::default()),
                Err(err) => format!("undecodable: {err}"),
            };
            self.out.push_str(&format!("  {line}\n"));
        }
        if drained.dropped > 0 {
            self.out
                .push_str(&format!("  ({} packets dropped)\n", drained.dropped));
        }
        Ok(())
    }

    /// A step: the syscall has just returned; then waits (bounded) for `settled` to hold.
    fn step(&mut self, name: &str, settled: Option<Settled>) -> io::Result<()> {
        self.packets(&format!("{name} returned:"))?;
        if let Some((what, done)) = settled {
            let start = Instant::now();
            let mut looks = 0;
            loop {
                looks += 1;
                let table = tcp_table(&self.naming)?;
                if done(&table) {
                    break;
                }
                if start.elapsed() > WAIT_LIMIT {
                    return Err(io::Error::other(format!("{name}: never saw {what}")));
                }
                std::thread::sleep(Duration::from_micros(200));
            }
            if verbose() {
                let when = if looks == 1 {
                    "at the first look".to_string()
                } else {
                    format!("after {:.1?} ({looks} looks)", start.elapsed())
                };
                eprintln!("timing: {name}: {what}: {when}");
            }
            self.packets(&format!("  until {what}:"))?;
        }
        let table = tcp_table(&self.naming)?;
        let states: Vec<String> = table.iter().map(Tcp::to_string).collect();
        self.out
            .push_str(&format!("  tcp table: {}\n", states.join(" | ")));
        Ok(())
    }

    /// Whatever a timer sends after the last step.
    fn late(&mut self) -> io::Result<()> {
        std::thread::sleep(LATE_WINDOW);
        self.packets("within 300 ms after the last step:")
    }
}

fn verbose() -> bool {
    std::env::var_os("NETLAB_WIRE_VERBOSE").is_some()
}

/// One row of /proc/net/tcp, which in the private namespace lists only this scenario's
/// sockets: `tx` is SIOCOUTQ (bytes not yet acknowledged), `rx` FIONREAD, or for a
/// listener the accept queue.
struct Tcp {
    local: String,
    remote: String,
    state: procfs::net::TcpState,
    rx: u32,
    tx: u32,
}

impl Tcp {
    fn is(&self, local: &str, state: procfs::net::TcpState) -> bool {
        self.local == local && self.state == state
    }
}

impl std::fmt::Display for Tcp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use procfs::net::TcpState::Listen;
        if self.state == Listen {
            write!(f, "{} LISTEN accept queue {}", self.local, self.rx)
        } else {
            write!(
                f,
                "{}>{} {:?} rx {} tx {}",
                self.local, self.remote, self.state, self.rx, self.tx
            )
        }
    }
}

fn tcp_table(naming: &Sides) -> io::Result<Vec<Tcp>> {
    let name = |addr: SocketAddr| match addr {
        SocketAddr::V4(v4) => naming.endpoint(v4),
        other => other.to_string(),
    };
    let mut rows: Vec<Tcp> = procfs::net::tcp()
        .map_err(io::Error::other)?
        .into_iter()
        .map(|entry| Tcp {
            local: name(entry.local_address),
            remote: name(entry.remote_address),
            state: entry.state,
            rx: entry.rx_queue,
            tx: entry.tx_queue,
        })
        .collect();
    rows.sort_by_key(|row| row.to_string());
    Ok(rows)
}

fn local_port(socket: &Socket) -> io::Result<u16> {
    socket
        .local_addr()?
        .as_socket()
        .map(|addr| addr.port())
        .ok_or_else(|| io::Error::other("not an IP socket"))
}

fn loopback(port: u16) -> SockAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port)).into()
}

/// connect, send b'hello' and b'world', recv(1024) == b'helloworld', the client closes, then
/// the server closes.
fn conversation() -> io::Result<()> {
    use procfs::net::TcpState::*;
    let listener = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    listener.bind(&loopback(0))?;
    listener.listen(5)?;
    let server_port = local_port(&listener)?;
    let client = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    client.bind(&loopback(0))?;
    let client_port = local_port(&client)?;
    let mut report = Report::new(Sides {
        server: server_port,
        client: client_port,
        closed: 0,
    })?;
    report.step("listen(5)", None)?;

    client.connect(&loopback(server_port))?;
    report.step(
        "client connect()",
        Some(("the accept queue holds it", &|t: &[Tcp]| {
            t.iter().any(|r| r.is("server", Listen) && r.rx == 1)
        })),
    )?;

    let (conn, _) = listener.accept()?;
    report.step("server accept()", None)?;

    let unacked = |t: &[Tcp]| t.iter().any(|r| r.is("client", Established) && r.tx == 0);
    assert_eq!(client.send(b"hello")?, 5);
    report.step(
        "client send(b'hello')",
        Some(("the client's send queue is acknowledged", &unacked)),
    )?;
    assert_eq!(client.send(b"world")?, 5);
    report.step(
        "client send(b'world')",
        Some(("the client's send queue is acknowledged", &unacked)),
    )?;

    let mut buffer = [0u8; 1024];
    let n = (&conn).read(&mut buffer)?;
    if &buffer[..n] != b"helloworld" {
        return Err(io::Error::other(format!(
            "recv(1024) gave {:?}",
            String::from_utf8_lossy(&buffer[..n])
        )));
    }
    report.step("server recv(1024) == b'helloworld'", None)?;

    drop(client);
    report.step(
        "client close()",
        Some(("the client is in FIN_WAIT_2", &|t: &[Tcp]| {
            t.iter().any(|r| r.is("client", FinWait2))
        })),
    )?;
    drop(conn);
    report.step(
        "server close()",
        Some((
            "the client is in TIME_WAIT and the server's end is gone",
            &|t: &[Tcp]| {
                t.iter().any(|r| r.is("client", TimeWait))
                    && !t.iter().any(|r| r.local == "server" && r.state != Listen)
            },
        )),
    )?;
    report.late()?;
    print!("{}", report.out);
    Ok(())
}

/// Three rounds of a request and a reply (client send, server recv, server send, client recv),
/// each recv only once the data is in its receive queue, with `pause` between steps (what
/// `--step` or `--pace` would add); then the client closes, then the server. With
/// `acked`, each send also waits until the sender's send queue is acknowledged (SIOCOUTQ 0),
/// and each close until the closing side is in FIN_WAIT_2 or gone.
fn echo(pause: Duration, acked: bool) -> io::Result<()> {
    use procfs::net::TcpState::*;
    let listener = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    listener.bind(&loopback(0))?;
    listener.listen(5)?;
    let server_port = local_port(&listener)?;
    let client = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    client.bind(&loopback(0))?;
    let mut report = Report::new(Sides {
        server: server_port,
        client: local_port(&client)?,
        closed: 0,
    })?;
    client.connect(&loopback(server_port))?;
    let (conn, _) = listener.accept()?;
    report.packets("connect() and accept() returned:")?;
    let waiting = |side: &'static str, n: u32| {
        move |t: &[Tcp]| {
            let arrived = t.iter().any(|r| r.is(side, Established) && r.rx == n);
            let acknowledged = t.iter().all(|r| r.local == side || r.tx == 0);
            arrived && (!acked || acknowledged)
        }
    };
    let mut buffer = [0u8; 1024];
    for round in 1..=3 {
        std::thread::sleep(pause);
        let request = format!("hi {round}");
        client.send(request.as_bytes())?;
        report.step(
            &format!("client send(b'{request}')"),
            Some(("the server has it", &waiting("server", 4))),
        )?;
        std::thread::sleep(pause);
        let n = (&conn).read(&mut buffer)?;
        report.step(&format!("server recv(1024) -> {n} bytes"), None)?;
        std::thread::sleep(pause);
        conn.send(request.to_uppercase().as_bytes())?;
        report.step(
            &format!("server send(b'{}')", request.to_uppercase()),
            Some(("the client has it", &waiting("client", 4))),
        )?;
        std::thread::sleep(pause);
        let n = (&client).read(&mut buffer)?;
        report.step(&format!("client recv(1024) -> {n} bytes"), None)?;
    }
    std::thread::sleep(pause);
    drop(client);
    let fin_acked = |t: &[Tcp]| t.iter().any(|r| r.is("client", FinWait2));
    report.step(
        "client close()",
        acked.then_some((
            "the client is in FIN_WAIT_2",
            &fin_acked as &dyn Fn(&[Tcp]) -> bool,
        )),
    )?;
    std::thread::sleep(pause);
    drop(conn);
    report.step("server close()", None)?;
    report.late()?;
    print!("{}", report.out);
    Ok(())
}

/// 1 MiB from the client while the server reads, with the capture drained only at the end:
/// how many packets the capture holds and how many it dropped.
fn bulk() -> io::Result<()> {
    let listener = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    listener.bind(&loopback(0))?;
    listener.listen(5)?;
    let server_port = local_port(&listener)?;
    let client = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    let mut capture = Capture::loopback()?;
    client.connect(&loopback(server_port))?;
    let (conn, _) = listener.accept()?;
    client.set_nonblocking(true)?;
    let data = vec![b'x'; 1 << 20];
    let (mut sent, mut received) = (0, 0);
    let mut buffer = vec![0u8; 65536];
    conn.set_nonblocking(true)?;
    while received < data.len() {
        if sent < data.len() {
            match client.send(&data[sent..]) {
                Ok(n) => sent += n,
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                Err(err) => return Err(err),
            }
        }
        match (&conn).read(&mut buffer) {
            Ok(n) => received += n,
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
            Err(err) => return Err(err),
        }
    }
    let drained = capture.drain()?;
    let data: Vec<u64> = drained
        .packets
        .iter()
        .filter_map(|p| match p {
            Ok(netlab::wire::Packet::Tcp(t)) if t.payload_len > 0 => Some(t.payload_len.into()),
            _ => None,
        })
        .collect();
    println!(
        "bulk: {} packets captured, {} carrying {} data bytes; {} dropped",
        drained.packets.len(),
        data.len(),
        data.iter().sum::<u64>(),
        drained.dropped
    );
    Ok(())
}

/// A connect to a port that is bound but not listening (ConnectionRefusedError), then a close
/// with SO_LINGER 0 on an established connection (the abortive close lab 04 shows).
fn resets() -> io::Result<()> {
    let bound = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    bound.bind(&loopback(0))?;
    let listener = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    listener.bind(&loopback(0))?;
    listener.listen(5)?;
    let client = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    client.bind(&loopback(0))?;
    let mut report = Report::new(Sides {
        server: local_port(&listener)?,
        client: local_port(&client)?,
        closed: local_port(&bound)?,
    })?;
    let refused = client.connect(&bound.local_addr()?).unwrap_err();
    report.packets(&format!(
        "client connect(closed) raised errno {}:",
        refused.raw_os_error().unwrap_or(0)
    ))?;
    let client = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    client.bind(&loopback(0))?;
    report.naming.client = local_port(&client)?;
    client.connect(&listener.local_addr()?)?;
    let (conn, _) = listener.accept()?;
    report.packets("client connect(server) and accept() returned:")?;
    client.set_linger(Some(Duration::ZERO))?;
    drop(client);
    report.packets("client close() with SO_LINGER 0 returned:")?;
    drop(conn);
    report.late()?;
    print!("{}", report.out);
    Ok(())
}

/// sendto(b'') and sendto(b'hello') to a bound UDP socket, sendto(b'') to a closed port, and a
/// connected socket's send to a closed port, then its next send (ConnectionRefusedError).
fn udp() -> io::Result<()> {
    let server = Socket::new(Domain::IPV4, Type::DGRAM, None)?;
    server.bind(&loopback(0))?;
    let closed = Socket::new(Domain::IPV4, Type::DGRAM, None)?;
    closed.bind(&loopback(0))?;
    let closed_port = local_port(&closed)?;
    drop(closed); // in the private namespace nothing else can take this port
    let client = Socket::new(Domain::IPV4, Type::DGRAM, None)?;
    client.bind(&loopback(0))?;
    let mut report = Report::new(Sides {
        server: local_port(&server)?,
        client: local_port(&client)?,
        closed: closed_port,
    })?;
    let server_addr = server.local_addr()?;

    assert_eq!(client.send_to(b"", &server_addr)?, 0);
    report.packets("client sendto(b'', server) returned:")?;
    assert_eq!(client.send_to(b"hello", &server_addr)?, 5);
    report.packets("client sendto(b'hello', server) returned:")?;
    assert_eq!(client.send_to(b"", &loopback(closed_port))?, 0);
    report.packets("client sendto(b'', closed port) returned:")?;

    client.connect(&loopback(closed_port))?;
    assert_eq!(client.send(b"x")?, 1);
    report.packets("connected client send(b'x') returned:")?;
    let refused = client.send(b"y").map(|_| ()).unwrap_err();
    report.out.push_str(&format!(
        "connected client send(b'y'): {}\n",
        refused.raw_os_error().map_or("no errno", |e| if e == 111 {
            "ECONNREFUSED"
        } else {
            "another errno"
        })
    ));
    report.packets("after it:")?;
    report.late()?;
    print!("{}", report.out);
    io::stdout().flush()
}

// ---------------------------------------------------------------- the parent

/// What the child printed, or why there is nothing to check (the namespace was refused).
enum Run {
    Report(String),
    Skipped(String),
}

fn spawn(scenario: &str, command: Option<Command>) -> Output {
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut command = command.unwrap_or_else(|| Command::new(&exe));
    command
        .env(CHILD, scenario)
        .output()
        .expect("the test binary can run itself")
}

fn run(scenario: &str, command: Option<Command>) -> Result<Run, String> {
    let output = spawn(scenario, command);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    if verbose() {
        eprint!("{stderr}");
    }
    match output.status.code() {
        Some(0) => Ok(Run::Report(stdout)),
        Some(2) if stderr.starts_with("--wire needs") => Ok(Run::Skipped(stderr.trim().into())),
        _ => Err(format!(
            "the {scenario} child failed ({}):\n{stdout}{stderr}",
            output.status
        )),
    }
}

const CONVERSATION: &str = "\
listen(5) returned:
  tcp table: server LISTEN accept queue 0
client connect() returned:
  client > server: Flags [S], seq 0, length 0
  server > client: Flags [S.], seq 0, ack 1, length 0
  client > server: Flags [.], ack 1, length 0
  until the accept queue holds it:
  tcp table: client>server Established rx 0 tx 0 | server LISTEN accept queue 1 | server>client Established rx 0 tx 0
server accept() returned:
  tcp table: client>server Established rx 0 tx 0 | server LISTEN accept queue 0 | server>client Established rx 0 tx 0
client send(b'hello') returned:
  client > server: Flags [P.], seq 1:6, ack 1, length 5
  server > client: Flags [.], ack 6, length 0
  until the client's send queue is acknowledged:
  tcp table: client>server Established rx 0 tx 0 | server LISTEN accept queue 0 | server>client Established rx 5 tx 0
client send(b'world') returned:
  client > server: Flags [P.], seq 6:11, ack 1, length 5
  server > client: Flags [.], ack 11, length 0
  until the client's send queue is acknowledged:
  tcp table: client>server Established rx 0 tx 0 | server LISTEN accept queue 0 | server>client Established rx 10 tx 0
server recv(1024) == b'helloworld' returned:
  tcp table: client>server Established rx 0 tx 0 | server LISTEN accept queue 0 | server>client Established rx 0 tx 0
client close() returned:
  client > server: Flags [F.], seq 11, ack 1, length 0
  until the client is in FIN_WAIT_2:
  server > client: Flags [.], ack 12, length 0
  tcp table: client>server FinWait2 rx 0 tx 0 | server LISTEN accept queue 0 | server>client CloseWait rx 1 tx 0
server close() returned:
  server > client: Flags [F.], seq 1, ack 12, length 0
  client > server: Flags [.], ack 2, length 0
  until the client is in TIME_WAIT and the server's end is gone:
  tcp table: client>server TimeWait rx 0 tx 0 | server LISTEN accept queue 0
within 300 ms after the last step:
";

/// The echo exchange with every send and close settled until acknowledged: the same as with
/// 100 ms between steps, whatever the delayed-ACK timer and the pingpong heuristic did.
const ECHO_SETTLED: &str = "\
client > server: Flags [S], seq 0, length 0
server > client: Flags [S.], seq 0, ack 1, length 0
client > server: Flags [.], ack 1, length 0
client > server: Flags [P.], seq 1:5, ack 1, length 4
server > client: Flags [.], ack 5, length 0
server > client: Flags [P.], seq 1:5, ack 5, length 4
client > server: Flags [.], ack 5, length 0
client > server: Flags [P.], seq 5:9, ack 5, length 4
server > client: Flags [.], ack 9, length 0
server > client: Flags [P.], seq 5:9, ack 9, length 4
client > server: Flags [.], ack 9, length 0
client > server: Flags [P.], seq 9:13, ack 9, length 4
server > client: Flags [.], ack 13, length 0
server > client: Flags [P.], seq 9:13, ack 13, length 4
client > server: Flags [.], ack 13, length 0
client > server: Flags [F.], seq 13, ack 13, length 0
server > client: Flags [.], ack 14, length 0
server > client: Flags [F.], seq 13, ack 14, length 0
client > server: Flags [.], ack 14, length 0
";

const RESETS: &str = "\
client connect(closed) raised errno 111:
  client > closed: Flags [S], seq 0, length 0
  closed > client: Flags [R.], seq 0, ack 1, length 0
client connect(server) and accept() returned:
  client > server: Flags [S], seq 0, length 0
  server > client: Flags [S.], seq 0, ack 1, length 0
  client > server: Flags [.], ack 1, length 0
client close() with SO_LINGER 0 returned:
  client > server: Flags [R.], seq 1, ack 1, length 0
within 300 ms after the last step:
";

const UDP: &str = "\
client sendto(b'', server) returned:
  client > server: UDP, length 0 (length field 8)
client sendto(b'hello', server) returned:
  client > server: UDP, length 5 (length field 13)
client sendto(b'', closed port) returned:
  client > closed: UDP, length 0 (length field 8)
  kernel > client: ICMP 127.0.0.1 udp port closed unreachable
connected client send(b'x') returned:
  client > closed: UDP, length 1 (length field 9)
  kernel > client: ICMP 127.0.0.1 udp port closed unreachable
connected client send(b'y'): ECONNREFUSED
after it:
within 300 ms after the last step:
";

/// Checks `report` line by line against `expected`, showing the first difference.
fn same(what: &str, report: &str, expected: &str) -> Result<(), String> {
    if report == expected {
        return Ok(());
    }
    let expected_lines: Vec<&str> = expected.lines().collect();
    let line = report
        .lines()
        .zip(&expected_lines)
        .position(|(got, want)| got != *want)
        .unwrap_or(expected_lines.len().min(report.lines().count()));
    Err(format!(
        "{what} differs from line {} on:\n--- expected\n{}\n--- this run\n{}",
        line + 1,
        expected_lines[line.min(expected_lines.len())..].join("\n"),
        report.lines().skip(line).collect::<Vec<_>>().join("\n"),
    ))
}

/// A test: its name and what it runs.
type Test = (&'static str, fn() -> TestResult);

fn runs() -> usize {
    std::env::var("NETLAB_WIRE_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3)
}

/// The segment lines of a report, in capture order, without the step headings.
fn segments(report: &str) -> String {
    report
        .lines()
        .filter(|line| line.starts_with("  ") && line.contains(" > "))
        .map(|line| format!("{}\n", line.trim_start()))
        .collect()
}

/// A pure ACK: the only kind of segment a timer decides about here.
fn is_pure_ack(line: &str) -> bool {
    line.contains("Flags [.], ack ") && line.ends_with(", length 0")
}

fn conversation_is_the_same_every_run() -> TestResult {
    let runs = runs();
    for i in 1..=runs {
        match run("conversation", None)? {
            Run::Skipped(reason) => return Ok(Some(reason)),
            Run::Report(report) => {
                if verbose() {
                    eprintln!("run {i}:\n{report}");
                }
                same(&format!("run {i} of {runs}"), &report, CONVERSATION)?;
            }
        }
    }
    Ok(None)
}

fn with_acks_settled_an_exchange_has_one_sequence() -> TestResult {
    for i in 1..=runs() {
        match run("echo-acked", None)? {
            Run::Skipped(reason) => return Ok(Some(reason)),
            Run::Report(report) => {
                same(&format!("echo run {i}"), &segments(&report), ECHO_SETTLED)?
            }
        }
    }
    Ok(None)
}

/// The same exchange at full speed and with 100 ms between steps: every segment but the pure
/// ACKs is the same. (At full speed the replies and the FIN usually carry the ACKs; how many
/// pure ACKs show depends on the delayed-ACK timer and on whether each reply came within the
/// ACK timeout of the request, so on the load: not asserted.)
fn only_pure_acks_depend_on_the_pace() -> TestResult {
    let (fast, paced) = match (run("echo", None)?, run("echo-paced", None)?) {
        (Run::Report(fast), Run::Report(paced)) => (segments(&fast), segments(&paced)),
        (Run::Skipped(reason), _) | (_, Run::Skipped(reason)) => return Ok(Some(reason)),
    };
    same("the paced exchange", &paced, ECHO_SETTLED)?;
    let without_pure_acks = |segments: &str| -> String {
        segments
            .lines()
            .filter(|line| !is_pure_ack(line))
            .map(|line| format!("{line}\n"))
            .collect()
    };
    same(
        "the fast exchange without its pure ACKs",
        &without_pure_acks(&fast),
        &without_pure_acks(&paced),
    )?;
    Ok(None)
}

/// 1 MiB in one go with the capture drained only at the end: every data byte is in the
/// capture, or the capture says how many packets it dropped (its buffer is capped by
/// net.core.rmem_max: 26 of 46 packets dropped with the default 212992).
fn a_capture_that_overflows_says_so() -> TestResult {
    match run("bulk", None)? {
        Run::Skipped(reason) => Ok(Some(reason)),
        Run::Report(report) => {
            let numbers: Vec<u64> = report
                .split(|c: char| !c.is_ascii_digit())
                .filter_map(|n| n.parse().ok())
                .collect();
            match numbers[..] {
                [_, _, bytes, 0] if bytes == 1 << 20 => Ok(None),
                [_, _, bytes, dropped] if dropped > 0 && bytes < 1 << 20 => Ok(None),
                _ => Err(format!("inconsistent: {report}")),
            }
        }
    }
}

/// A SYN to a bound port that does not listen gets [R.] (lab 15); SO_LINGER 0 closes with [R.]
/// instead of [F.] (lab 04).
fn resets_answer_a_syn_without_listener_and_an_abortive_close() -> TestResult {
    match run("resets", None)? {
        Run::Skipped(reason) => Ok(Some(reason)),
        Run::Report(report) => same("the resets report", &report, RESETS).map(|()| None),
    }
}

fn udp_lengths_and_the_port_unreachable() -> TestResult {
    match run("udp", None)? {
        Run::Skipped(reason) => Ok(Some(reason)),
        Run::Report(report) => same("the UDP report", &report, UDP).map(|()| None),
    }
}

/// As an ordinary user (uid 65534 via setpriv, when the test runs as root): the user
/// namespace path gives the same report.
fn an_unprivileged_user_sees_the_same_segments() -> TestResult {
    let root = std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .any(|line| line.starts_with("Uid:") && line.split_whitespace().nth(2) == Some("0"));
    if !root {
        return match run("enter", None)? {
            Run::Skipped(reason) => Ok(Some(reason)),
            Run::Report(report) if report.contains("UserAndNetwork") => Ok(None),
            Run::Report(report) => Err(format!("an ordinary user entered {report}")),
        };
    }
    let Some(setpriv) = which("setpriv") else {
        return Ok(Some("setpriv (util-linux) is not installed".into()));
    };
    if !uid_is_mapped(65534) {
        return Ok(Some(
            "uid 65534 does not exist in this user namespace".into(),
        ));
    }
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    if let Some(closed) = exe.ancestors().find(|path| !others_may_execute(path)) {
        return Ok(Some(format!(
            "uid 65534 may not execute the test binary ({} is closed to others)",
            closed.display()
        )));
    }
    let as_nobody = |scenario: &str| {
        let mut command = Command::new(&setpriv);
        command
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&exe);
        run(scenario, Some(command))
    };
    match as_nobody("enter")? {
        Run::Skipped(reason) => return Ok(Some(reason)),
        Run::Report(report)
            if report.trim() == "entered: UserAndNetwork { uid: 65534, gid: 65534 }" => {}
        Run::Report(report) => return Err(format!("uid 65534 entered {report}")),
    }
    match as_nobody("conversation")? {
        Run::Skipped(reason) => Ok(Some(reason)),
        Run::Report(report) => same("uid 65534's report", &report, CONVERSATION).map(|()| None),
    }
}

/// Inside `unshare -rU` (a user namespace where this process may change the limits), the
/// namespace limits set to 0: netlab's sentence names the sysctl.
fn a_zero_namespace_limit_is_named() -> TestResult {
    let Some(unshare) = which("unshare") else {
        return Ok(Some("unshare (util-linux) is not installed".into()));
    };
    let probe = Command::new(&unshare).args(["-rU", "true"]).output();
    if !probe.is_ok_and(|out| out.status.success()) {
        return Ok(Some("`unshare -rU` is refused here".into()));
    }
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let limited = |how: &str| {
        let mut command = Command::new(&unshare);
        command
            .args(["-rU", "sh", "-c"])
            .arg(
                "echo 0 > /proc/sys/user/max_user_namespaces && \
                 echo 0 > /proc/sys/user/max_net_namespaces && exec \"$0\"",
            )
            .arg(&exe)
            .env("NETLAB_WIRE_HOW", how);
        spawn("enter", Some(command))
    };
    let cases = [
        // uid 0 in that namespace: a network namespace alone, stopped by the network limit.
        (
            "auto",
            "--wire needs a private network namespace, but the kernel refused to create a \
             network namespace (ENOSPC) because user.max_net_namespaces=0; \
             `sudo sysctl user.max_net_namespaces=1000` allows it.",
        ),
        // The unprivileged path: the user namespace is refused first.
        (
            "user",
            "--wire needs a private network namespace, but the kernel refused to create a \
             user namespace with a network namespace (ENOSPC) because \
             user.max_user_namespaces=0; running netlab as root, or \
             `sudo sysctl user.max_user_namespaces=1000`, allows it.",
        ),
    ];
    for (how, expected) in cases {
        let output = limited(how);
        let stderr = String::from_utf8_lossy(&output.stderr);
        if output.status.code() != Some(2) || stderr.trim_end() != expected {
            return Err(format!(
                "with both limits 0 ({how}): {} and {stderr:?}, expected exit status 2 and \
                 {expected:?}",
                output.status
            ));
        }
    }
    Ok(None)
}

/// A thread started before the namespace: the kernel refuses (EINVAL) and the sentence says
/// why and what allows it.
fn a_thread_before_the_namespace_is_named() -> TestResult {
    let mut command = Command::new(std::env::current_exe().map_err(|e| e.to_string())?);
    command.env("NETLAB_WIRE_HOW", "user");
    let output = spawn("enter-threaded", Some(command));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let expected = "--wire needs a private network namespace, but the kernel refused to create \
                    a user namespace with a network namespace (EINVAL) because the process \
                    already has 2 threads";
    if output.status.code() == Some(2) && stderr.starts_with(expected) {
        Ok(None)
    } else if stderr.starts_with("--wire needs") && !stderr.contains("(EINVAL)") {
        Ok(Some(stderr.trim().into()))
    } else {
        Err(format!("{}: {stderr:?}", output.status))
    }
}

/// Whether `uid` is one of this user namespace's ids (/proc/self/uid_map: inside outside count).
fn uid_is_mapped(uid: u64) -> bool {
    std::fs::read_to_string("/proc/self/uid_map")
        .unwrap_or_default()
        .lines()
        .any(|line| {
            let numbers: Vec<u64> = line
                .split_whitespace()
                .filter_map(|n| n.parse().ok())
                .collect();
            matches!(numbers[..], [inside, _, count] if (inside..inside + count).contains(&uid))
        })
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

fn parent() -> ExitCode {
    let tests: [Test; 9] = [
        (
            "conversation_is_the_same_every_run",
            conversation_is_the_same_every_run,
        ),
        (
            "with_acks_settled_an_exchange_has_one_sequence",
            with_acks_settled_an_exchange_has_one_sequence,
        ),
        (
            "only_pure_acks_depend_on_the_pace",
            only_pure_acks_depend_on_the_pace,
        ),
        (
            "a_capture_that_overflows_says_so",
            a_capture_that_overflows_says_so,
        ),
        (
            "resets_answer_a_syn_without_listener_and_an_abortive_close",
            resets_answer_a_syn_without_listener_and_an_abortive_close,
        ),
        (
            "udp_lengths_and_the_port_unreachable",
            udp_lengths_and_the_port_unreachable,
        ),
        (
            "an_unprivileged_user_sees_the_same_segments",
            an_unprivileged_user_sees_the_same_segments,
        ),
        (
            "a_zero_namespace_limit_is_named",
            a_zero_namespace_limit_is_named,
        ),
        (
            "a_thread_before_the_namespace_is_named",
            a_thread_before_the_namespace_is_named,
        ),
    ];
    let filters = harness::filters();
    harness::report(
        tests
            .into_iter()
            .filter(|(name, _)| harness::selected(&filters, name))
            .map(|(name, test)| (name.to_string(), test())),
    )
}
