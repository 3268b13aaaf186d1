//! "Would block" is the kernel's answer, not a clock's: a call of a lab is shown blocked when
//! nothing is on its way to it, bytes that a peer's kernel holds back are on their way, and a
//! program outside netlab is still waited for.

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::Command;
use std::sync::atomic::{AtomicU16, Ordering};
use std::thread;
use std::time::Duration;

use netlab::event::{Outcome, Text};
use netlab::lab::{self, Lab};
use netlab::prelude::*;
use netlab::trace::TraceOptions;

/// One line of a trace as the English text shows it: the call (or what a probe read), what
/// it returned or the blocked phrase, and whether it was shown blocked.
#[derive(Debug)]
struct Line {
    call: String,
    result: String,
    blocked: bool,
}

fn events(lab: &'static Lab) -> Vec<Line> {
    let recording = lab::record(lab, TraceOptions::default()).unwrap();
    recording
        .events
        .iter()
        .map(|event| {
            let (result, blocked) = match &event.outcome {
                Outcome::Returned(text) => (text.en.to_string(), false),
                Outcome::Blocked(text) => (text.en.to_string(), true),
                Outcome::Raised(errno) => (errno.python(), false),
                Outcome::RaisedPython(exception) => (format!("{exception:?}"), false),
            };
            Line {
                call: event.call.en.to_string(),
                result,
                blocked,
            }
        })
        .collect()
}

fn result_of<'a>(events: &'a [Line], call: &str) -> &'a str {
    let event = events
        .iter()
        .find(|e| e.call == call)
        .unwrap_or_else(|| panic!("no event {call}: {events:#?}"));
    &event.result
}

/// The number in a result such as `93 bytes waiting` or `4 bytes`.
fn count(result: &str) -> u64 {
    result.split(' ').next().unwrap().parse().unwrap()
}

#[test]
fn every_blocked_call_of_every_lab_is_shown_on_the_kernels_evidence() {
    let mut blocked = 0;
    for lab in lab::all() {
        for event in events(lab) {
            if !event.blocked {
                continue;
            }
            blocked += 1;
            let result = &event.result;
            assert!(
                !result.contains("still waiting after") && !result.contains("stops watching"),
                "{}: {} was watched on a clock: {result}",
                lab.id,
                event.call
            );
        }
    }
    assert!(blocked >= 10, "the labs show {blocked} blocked calls");
}

/// Bytes the kernel holds back in the send queue of the TCP socket at local `port` with
/// remote `remote`, as `ss -ti` reports them (`notsent:N`, TCP_INFO's tcpi_notsent_bytes):
/// read from outside netlab, whose own probes wait until such bytes have gone out. None
/// without ss.
fn held_by_kernel(port: u16, remote: u16) -> Option<u64> {
    let filter = format!("( sport = :{port} and dport = :{remote} )");
    let out = Command::new("ss").args(["-tinH", &filter]).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let held = text
        .split_whitespace()
        .find_map(|field| field.strip_prefix("notsent:"))
        .map_or(0, |n| n.parse().unwrap_or(0));
    out.status.success().then_some(held)
}

/// A client that talks with a server in the interactive way the course's programs do, so
/// the client's kernel delays its ACKs; then the server sends a 4-byte length and a header,
/// as lab 09 does. Nagle holds back what it sends while its last reply is unacknowledged,
/// until the client's delayed ACK.
fn length_then_header(t: &Trace) -> LabResult {
    let server = t.side("server");
    let phone = server.tcp("phone")?;
    phone.bind(&Addr::loopback(0))?;
    phone.listen(1)?;
    let dialer = t.side("client").tcp("phone")?;
    dialer.connect(&phone.local_addr()?)?;
    let (conn, _) = phone.accept("conn")?;
    let kernel = t.kernel();
    for _ in 0..4 {
        dialer.send(b"ls")?;
        conn.recv(1024)?;
        conn.send(b"one reply")?;
        dialer.recv(1024)?;
    }
    conn.send(b"\x1d\x00\x00\x00")?;
    conn.send(b"{\"filename\": \"report.txt\"}..")?;
    let (port, remote) = (conn.local_addr()?.port(), conn.peer_addr()?.port());
    let held = held_by_kernel(port.unwrap_or(0), remote.unwrap_or(0));
    t.summary(
        Text::fixed("held back", "held back"),
        Text::same(format!("{held:?}")),
    );
    kernel.recv_queue(&dialer)?;
    Ok(())
}

/// The 4-byte length and the 28-byte header.
const HEADED_LEN: u64 = 4 + 28;

static LENGTH_THEN_HEADER: Lab = Lab {
    id: "97-length-then-header",
    title: Text::fixed("length then header", "length then header"),
    lesson: Text::fixed("", ""),
    run: length_then_header,
    peer: None,
    code: &[],
};

#[test]
fn bytes_a_peer_holds_back_until_an_ack_are_on_their_way() {
    // Whether Nagle holds the bytes back depends on the ACK timing a run meets; `ss` shows
    // whether it did (it does in the first run on an idle machine). Every run must show all
    // of them waiting; at least two runs must have met the hold, where ss is there to say.
    let mut held = 0;
    let mut ss_answered = false;
    for _ in 0..10 {
        let ev = events(&LENGTH_THEN_HEADER);
        let waiting = count(result_of(&ev, "client phone: receive queue (FIONREAD)"));
        assert_eq!(
            waiting, HEADED_LEN,
            "the length and the whole header: {ev:#?}"
        );
        match result_of(&ev, "held back") {
            "None" => {}
            "Some(0)" => ss_answered = true,
            _ => {
                ss_answered = true;
                held += 1;
            }
        }
        if held == 2 {
            return;
        }
    }
    assert!(
        !ss_answered,
        "Nagle never held the bytes back in 10 runs ({held} times)"
    );
}

/// The port of a listener this test runs outside netlab.
static OUTSIDE_PORT: AtomicU16 = AtomicU16::new(0);

fn recv_from_an_outside_program(t: &Trace) -> LabResult {
    let client = t.side("client");
    let phone = client.tcp("phone")?;
    let port = OUTSIDE_PORT.load(Ordering::SeqCst);
    phone.connect(&Addr::Inet(SocketAddr::from(([127, 0, 0, 1], port))))?;
    phone.recv(1024)?;
    phone.close();
    Ok(())
}

static RECV_FROM_OUTSIDE: Lab = Lab {
    id: "96-recv-from-outside",
    title: Text::fixed("outside", "outside"),
    lesson: Text::fixed("", ""),
    run: recv_from_an_outside_program,
    peer: None,
    code: &[],
};

#[test]
fn a_program_outside_netlab_is_waited_for() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    OUTSIDE_PORT.store(listener.local_addr().unwrap().port(), Ordering::SeqCst);
    // The outside program answers later than any kernel event would come.
    let outside = thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        thread::sleep(Duration::from_millis(300));
        conn.write_all(b"late answer").unwrap();
    });
    let ev = events(&RECV_FROM_OUTSIDE);
    outside.join().unwrap();
    assert_eq!(
        result_of(&ev, "data = phone.recv(1024)"),
        "b'late answer' (11 bytes)"
    );
}

fn accept_an_outside_client(t: &Trace) -> LabResult {
    let server = t.side("server");
    let phone = server.tcp("phone")?;
    let port = OUTSIDE_PORT_2.load(Ordering::SeqCst);
    phone.bind(&Addr::Inet(SocketAddr::from(([127, 0, 0, 1], port))))?;
    phone.listen(1)?;
    READY.store(1, Ordering::SeqCst);
    let (conn, _) = phone.accept("conn")?;
    conn.close();
    phone.close();
    Ok(())
}

static OUTSIDE_PORT_2: AtomicU16 = AtomicU16::new(0);
static READY: AtomicU16 = AtomicU16::new(0);

static ACCEPT_FROM_OUTSIDE: Lab = Lab {
    id: "95-accept-from-outside",
    title: Text::fixed("outside", "outside"),
    lesson: Text::fixed("", ""),
    run: accept_an_outside_client,
    peer: None,
    code: &[],
};

#[test]
fn a_listener_that_no_socket_of_the_lab_dialled_waits_for_outside_clients() {
    // A free port: bind, note it, let it go.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    OUTSIDE_PORT_2.store(port, Ordering::SeqCst);
    let outside = thread::spawn(move || {
        while READY.load(Ordering::SeqCst) == 0 {
            thread::sleep(Duration::from_millis(5));
        }
        thread::sleep(Duration::from_millis(300));
        TcpStream::connect(("127.0.0.1", port)).unwrap()
    });
    let ev = events(&ACCEPT_FROM_OUTSIDE);
    drop(outside.join().unwrap());
    let accepted = ev
        .iter()
        .find(|e| e.call == "conn, addr = phone.accept()")
        .unwrap();
    assert!(!accepted.blocked, "{accepted:#?}");
    assert!(accepted.result.starts_with("addr = ('127.0.0.1', "));
}
