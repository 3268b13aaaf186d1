//! The parts every peer-mode program shares, run by the engine around the lab's own steps:
//! `serve` makes the server's socket (bind, listen) and runs the link loop, one client (or, for
//! UDP, one request) after another until Ctrl-C or `--once`; `connect` makes the client's
//! socket for the lab's program and reports how the exchange went. A conversation that goes
//! wrong ends with a diagnosis and never ends the server.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use super::call::{Call, Dialer};
use super::context::Context;
use super::datagrams::Datagrams;
use super::diagnosis::Diagnosis;
use super::outside::{Outside, Waited};
use super::{endpoint, event_loop, Connect, Ended, EventLoop, PeerMode, PeerResult, Role, Serve};
use crate::event::Text;
use crate::phrases;
use crate::recorder::TraceOptions;
use crate::render::{LabEnd, SessionEnd, Sink};
use crate::sock::{Addr, Sock};
use crate::trace::{LabError, Trace};

/// How a session runs.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// The port: the server's own (`serve`; 0 lets the kernel pick one) or the student's
    /// server's (`connect`).
    pub port: u16,
    /// `serve`: stop after the first client (TCP) or request (UDP).
    pub once: bool,
    /// The longest netlab waits for the peer at any one point of a conversation.
    pub wait: Duration,
}

/// How a session went.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Clients served (TCP), requests answered (UDP), or 1 for `connect`.
    pub conversations: u32,
    /// The code of every diagnosis, in order.
    pub diagnoses: Vec<&'static str>,
    /// Whether Ctrl-C ended it.
    pub stopped: bool,
}

/// Why a session could not run.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The lab does not offer this role.
    #[error("this lab offers no such peer mode")]
    NotOffered,
    /// `serve`: the port cannot be bound (another program has it, or it needs privileges).
    #[error("port {port} cannot be used: {err}")]
    PortUnavailable { port: u16, err: io::Error },
    /// Writing the trace failed (a closed pipe, say).
    #[error("could not write the trace: {0}")]
    Output(io::Error),
    /// netlab could not set up its own side.
    #[error("{0}")]
    Failed(LabError),
}

impl From<io::Error> for SessionError {
    fn from(err: io::Error) -> Self {
        SessionError::Failed(LabError::Call(err))
    }
}

impl From<LabError> for SessionError {
    fn from(err: LabError) -> Self {
        SessionError::Failed(err)
    }
}

/// `netlab serve`: netlab is the lab's server on 127.0.0.1:`settings.port` until Ctrl-C (or
/// one conversation with `--once`). `ready` is told the real address once the server listens
/// (the CLI prints it for the person starting a client). A port that is taken is found before
/// anything is printed.
pub fn serve(
    id: &'static str,
    title: &Text,
    mode: &PeerMode,
    options: TraceOptions,
    settings: Settings,
    sink: Box<dyn Sink>,
    ready: &mut dyn FnMut(SocketAddr),
) -> Result<Report, SessionError> {
    let handler = mode.serve.ok_or(SessionError::NotOffered)?;
    let udp = mode.is_udp();
    if settings.port != 0 {
        endpoint::probe_bind(settings.port, udp).map_err(|err| SessionError::PortUnavailable {
            port: settings.port,
            err,
        })?;
    }
    let stop = crate::cleanup::stop_on_sigint()?;
    let trace = Trace::new(id, options, sink, None).map_err(SessionError::Output)?;
    trace
        .start(&phrases::session_title(title, true))
        .map_err(SessionError::Output)?;
    let cx = Context::new(
        trace.clone(),
        Role::Serve,
        Outside::new(settings.wait, Some(stop)),
    );
    let outcome = match handler {
        Serve::Calls(program) => serve_calls(&cx, program, settings, ready),
        Serve::Datagrams(program) => serve_datagrams(&cx, program, settings, ready),
        Serve::EventLoop(program) => serve_event_loop(&cx, program, settings, ready),
    };
    finish(&cx, id, outcome)
}

/// `netlab connect`: netlab is the lab's client of the server on 127.0.0.1:`settings.port`.
pub fn connect(
    id: &'static str,
    title: &Text,
    mode: &PeerMode,
    options: TraceOptions,
    settings: Settings,
    sink: Box<dyn Sink>,
) -> Result<Report, SessionError> {
    let program = mode.connect.ok_or(SessionError::NotOffered)?;
    let trace = Trace::new(id, options, sink, None).map_err(SessionError::Output)?;
    trace
        .start(&phrases::session_title(title, false))
        .map_err(SessionError::Output)?;
    let cx = Context::new(
        trace.clone(),
        Role::Connect,
        Outside::new(settings.wait, None),
    );
    let outcome = run_client(&cx, program, settings);
    finish(&cx, id, outcome)
}

/// Ends the trace with the session's figures; an output error comes first, since nobody saw
/// the rest.
fn finish(
    cx: &Context,
    id: &'static str,
    outcome: Result<Report, SessionError>,
) -> Result<Report, SessionError> {
    let session = SessionEnd {
        command: match cx.role {
            Role::Serve => "serve",
            Role::Connect => "connect",
        },
        conversations: cx.conversations(),
        diagnoses: cx.findings(),
        interrupted: outcome.as_ref().is_ok_and(|report| report.stopped),
    };
    let end = LabEnd {
        id,
        stopped: outcome.as_ref().err().map(ToString::to_string),
        next: None,
        session: Some(session),
    };
    let written = cx.trace.finish(&end);
    match (outcome, written) {
        (_, Err(err)) => Err(SessionError::Output(err)),
        (outcome, Ok(())) => outcome,
    }
}

/// How a session went, from what its context counted.
fn report(cx: &Context, stopped: bool) -> Report {
    Report {
        conversations: cx.conversations(),
        diagnoses: cx.findings(),
        stopped,
    }
}

/// netlab's TCP server switches on: `var = socket(...)`, SO_REUSEADDR, bind, `listen(5)`,
/// and its state from the kernel. Returns the listening socket and its address.
fn switch_on(cx: &Context, var: &str, port: u16) -> Result<(Sock, Addr), SessionError> {
    let trace = &cx.trace;
    let server = trace.side("server");
    trace.recorder().section(phrases::server_switches_on());
    let listening = server.tcp(var)?;
    listening.set_reuseaddr(true)?;
    cx.note(
        "netlab sets SO_REUSEADDR before bind, the course's fix from lab 06: a connection this server closes first stays in TIME_WAIT on its port for a minute, and without the option the next `netlab serve` could not bind the port during that time.",
        "netlab 在 bind 之前设置了 SO_REUSEADDR，也就是实验 06 里课程的解决办法：这个服务端先关闭的连接会在它的端口上停留一分钟 TIME_WAIT，不设这个选项的话，这段时间里下一次 `netlab serve` 就绑定不了这个端口。",
    );
    let number = bind(trace, &listening, port)?;
    listening.listen(5)?;
    trace.kernel().tcp_state_now(&listening)?;
    Ok((listening, number))
}

fn serve_calls(
    cx: &Context,
    program: fn(&mut Call) -> PeerResult,
    settings: Settings,
    ready: &mut dyn FnMut(SocketAddr),
) -> Result<Report, SessionError> {
    let trace = &cx.trace;
    let (phone, number) = switch_on(cx, "phone", settings.port)?;
    let shown = trace.registry().show_addr(&number);
    cx.note(
        format!("netlab's server waits in accept() for your client at {shown}: start it in another terminal. It serves one client after another (the link loop) until Ctrl-C."),
        format!("netlab 的服务端在 {shown} 上的 accept() 里等你的客户端：请在另一个终端里启动它。它一个接一个地服务客户端（链接循环），直到按下 Ctrl-C。"),
    );
    if let Addr::Inet(addr) = number {
        ready(addr);
    }
    let stopped = loop {
        // Everything so far is on screen while the server waits; the next line (and the
        // section it opens) is known only when a client comes.
        trace.recorder().flush();
        match cx.outside.readable_within(phone.borrowed_fd(), None)? {
            Waited::Stopped => break true,
            Waited::Ready => {}
            Waited::TimedOut => continue,
        }
        let n = cx.next_conversation();
        trace
            .recorder()
            .section(phrases::conversation_heading(n, false));
        let Ok((conn, _)) = phone.accept("conn") else {
            continue; // the failed accept is in the trace; the next client may do better
        };
        let mut call = Call::new(cx.clone(), conn, n);
        let ended = program(&mut call);
        let stopped = settle(cx, ended);
        call.hang_up();
        if stopped || settings.once || trace.recorder().output_failed() {
            break stopped;
        }
    };
    phone.close();
    Ok(serve_report(cx, stopped, false))
}

/// netlab's server for many clients at once: the listening socket, then the event loop.
fn serve_event_loop(
    cx: &Context,
    program: EventLoop,
    settings: Settings,
    ready: &mut dyn FnMut(SocketAddr),
) -> Result<Report, SessionError> {
    let (server, number) = switch_on(cx, "server", settings.port)?;
    let stopped = event_loop::run(cx, program, server, &number, settings.once, ready)?;
    Ok(serve_report(cx, stopped, false))
}

fn serve_datagrams(
    cx: &Context,
    program: fn(&mut Datagrams) -> PeerResult,
    settings: Settings,
    ready: &mut dyn FnMut(SocketAddr),
) -> Result<Report, SessionError> {
    let trace = &cx.trace;
    let server = trace.side("server");
    trace.recorder().section(phrases::server_starts());
    let sock = server.udp("server")?;
    let number = bind(trace, &sock, settings.port)?;
    let shown = trace.registry().show_addr(&number);
    cx.note(
        format!("netlab's server waits in recvfrom() for a datagram at {shown}: start your client in another terminal. It answers every datagram, from whoever sent it, until Ctrl-C."),
        format!("netlab 的服务端在 {shown} 上的 recvfrom() 里等数据报：请在另一个终端里启动你的客户端。它回复每一个数据报，不管是谁发来的，直到按下 Ctrl-C。"),
    );
    if let Addr::Inet(addr) = number {
        ready(addr);
    }
    let mut datagrams = Datagrams::new(cx.clone(), sock, None);
    let stopped = loop {
        trace.recorder().flush();
        match cx
            .outside
            .readable_within(datagrams.sock().borrowed_fd(), None)?
        {
            Waited::Stopped => break true,
            Waited::Ready => {}
            Waited::TimedOut => continue,
        }
        let n = cx.next_conversation();
        trace
            .recorder()
            .section(phrases::conversation_heading(n, true));
        datagrams.set_turn(n);
        let ended = program(&mut datagrams);
        let stopped = settle(cx, ended);
        if stopped || settings.once || trace.recorder().output_failed() {
            break stopped;
        }
    };
    datagrams.close();
    Ok(serve_report(cx, stopped, true))
}

/// `sock.bind(('127.0.0.1', port))`; a port a person typed shows as its number. Another
/// program that took the port since the probe is reported as the port being unavailable.
fn bind(trace: &Trace, sock: &Sock, port: u16) -> Result<Addr, SessionError> {
    if port != 0 {
        trace.registry().keep_port_number(port);
    }
    match sock.bind(&Addr::loopback(port)) {
        Ok(()) => Ok(sock.local_addr()?),
        Err(err) => Err(SessionError::PortUnavailable { port, err }),
    }
}

fn run_client(cx: &Context, program: Connect, settings: Settings) -> Result<Report, SessionError> {
    let trace = &cx.trace;
    trace.registry().keep_port_number(settings.port);
    cx.next_conversation();
    let server = Addr::loopback(settings.port);
    let ended = match program {
        Connect::Calls(program) => {
            let dialer = Dialer::new(cx.clone(), server);
            program(&dialer)
        }
        Connect::Datagrams(program) => {
            let sock = trace.side("client").udp("client")?;
            let mut datagrams = Datagrams::new(cx.clone(), sock, Some(server));
            let ended = program(&mut datagrams);
            datagrams.close();
            ended
        }
    };
    let stopped = settle(cx, ended);
    let report = report(cx, stopped);
    cx.summary(phrases::connect_ended(), phrases::found(&report.diagnoses));
    Ok(report)
}

/// How a `serve` session went, with its closing summary line: why it ended and how many
/// conversations and diagnoses it had (`datagrams`: counted as requests, not clients).
fn serve_report(cx: &Context, stopped: bool, datagrams: bool) -> Report {
    let report = report(cx, stopped);
    cx.summary(
        phrases::serve_ended(stopped),
        phrases::served(report.conversations, report.diagnoses.len(), datagrams),
    );
    report
}

/// What the end of one conversation means for the session: true when Ctrl-C ended it. A
/// call that failed because of what the peer did (RST, a closed end) is diagnosed; any other
/// failure is shown on a line of its own, and the server goes on.
fn settle(cx: &Context, ended: PeerResult) -> bool {
    match ended {
        Ok(()) | Err(Ended::Diagnosed(_)) => false,
        Err(Ended::Stopped) => true,
        Err(Ended::Failed(LabError::Call(err))) => {
            match err.raw_os_error() {
                Some(libc::ECONNRESET) => cx.report(&Diagnosis::Reset { progress: None }),
                Some(libc::EPIPE) => cx.report(&Diagnosis::ClosedWhileSending),
                _ => failed(cx, &LabError::Call(err)),
            }
            false
        }
        Err(Ended::Failed(err)) => {
            failed(cx, &err);
            false
        }
    }
}

fn failed(cx: &Context, err: &LabError) {
    cx.summary(phrases::conversation_failed(), Text::same(err.to_string()));
}

#[cfg(test)]
mod tests {
    //! Peer mode's lines follow the engine's rules for every line: each recorded call, probe
    //! and `netlab` line opens the trace's gate first (as `--step` would need), a call whose
    //! line shows a Python value has that value in its JSON, and a session ends with its
    //! figures. Each session runs in this process against a peer on a thread.

    use std::cell::RefCell;
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream, UdpSocket};
    use std::os::fd::AsFd;
    use std::rc::Rc;
    use std::sync::mpsc;

    use super::super::context::NETLAB;
    use super::*;
    use crate::event::{Event, Kind, Outcome};
    use crate::recorder::{Gate, Stop, Waypoint};

    /// What a session recorded: its events, where it passed its gate, how it ended.
    #[derive(Default)]
    struct Recorded {
        events: Vec<Event>,
        gates: Vec<Waypoint>,
        end: Option<LabEnd>,
    }

    type Shared = Rc<RefCell<Recorded>>;

    struct Keep(Shared);

    impl Sink for Keep {
        fn lab_start(&mut self, _id: &str, _title: &Text) -> io::Result<()> {
            Ok(())
        }
        fn event(&mut self, event: &Event) -> io::Result<()> {
            self.0.borrow_mut().events.push(event.clone());
            Ok(())
        }
        fn lab_end(&mut self, end: &LabEnd) -> io::Result<()> {
            self.0.borrow_mut().end = Some(end.clone());
            Ok(())
        }
    }

    /// A gate that never waits and notes where the session passed it.
    struct Log(Shared);

    impl Gate for Log {
        fn flag(&self) -> String {
            "--test".to_string()
        }
        fn wait(&mut self, at: Waypoint) -> Result<(), Stop> {
            self.0.borrow_mut().gates.push(at);
            Ok(())
        }
    }

    const WAIT: Duration = Duration::from_millis(300);

    fn settings(port: u16) -> Settings {
        Settings {
            port,
            once: true,
            wait: WAIT,
        }
    }

    /// A session of `lab` in `role`, gated, recorded.
    fn context(lab: &str, role: Role) -> (Context, &'static PeerMode, &'static str, Shared) {
        let lab = crate::lab::find(lab).unwrap();
        let shared = Shared::default();
        let trace = Trace::new(
            lab.id,
            TraceOptions::default(),
            Box::new(Keep(shared.clone())),
            Some(Box::new(Log(shared.clone()))),
        )
        .unwrap();
        trace
            .start(&phrases::session_title(&lab.title, role == Role::Serve))
            .unwrap();
        let cx = Context::new(trace, role, Outside::new(WAIT, None));
        (cx, lab.peer.unwrap(), lab.id, shared)
    }

    /// `netlab serve LAB --once` with `client` (on a thread) given the server's address.
    fn serve_once(lab: &str, client: impl FnOnce(SocketAddr) + Send + 'static) -> Recorded {
        let (cx, mode, id, shared) = context(lab, Role::Serve);
        let (tx, rx) = mpsc::channel();
        let playing = std::thread::spawn(move || client(rx.recv().unwrap()));
        let mut ready = |addr| tx.send(addr).unwrap();
        let outcome = match mode.serve.unwrap() {
            Serve::Calls(program) => serve_calls(&cx, program, settings(0), &mut ready),
            Serve::Datagrams(program) => serve_datagrams(&cx, program, settings(0), &mut ready),
            Serve::EventLoop(program) => serve_event_loop(&cx, program, settings(0), &mut ready),
        };
        finish(&cx, id, outcome).unwrap();
        playing.join().unwrap();
        shared.take()
    }

    /// `netlab connect LAB` against `server` (on a thread, with the listener, and told
    /// when netlab's session has ended).
    fn connect_to(
        lab: &str,
        server: impl FnOnce(TcpListener, mpsc::Receiver<()>) + Send + 'static,
    ) -> Recorded {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (ended, told) = mpsc::channel();
        let playing = std::thread::spawn(move || server(listener, told));
        let recorded = connect_port(lab, port);
        let _ = ended.send(());
        playing.join().unwrap();
        recorded
    }

    /// `netlab connect LAB --port PORT`.
    fn connect_port(lab: &str, port: u16) -> Recorded {
        let (cx, mode, id, shared) = context(lab, Role::Connect);
        let outcome = run_client(&cx, mode.connect.unwrap(), settings(port));
        finish(&cx, id, outcome).unwrap();
        shared.take()
    }

    fn read_all(stream: &mut TcpStream) -> Vec<u8> {
        let mut all = Vec::new();
        let _ = stream.read_to_end(&mut all);
        all
    }

    /// The rules, and the session's diagnoses.
    fn check(recorded: &Recorded) -> Vec<&'static str> {
        let shown: Vec<u32> = recorded.gates.iter().map(|g| g.shown).collect();
        let expected: Vec<u32> = (0..recorded.events.len() as u32).collect();
        assert_eq!(
            shown, expected,
            "the gate must open once before each event: {:#?}",
            recorded.events
        );
        for (gate, event) in recorded.gates.iter().zip(&recorded.events) {
            assert_eq!(gate.opens_section, event.section.is_some(), "{event:?}");
        }
        for event in &recorded.events {
            if event.kind != Kind::Call {
                continue;
            }
            assert!(event.facts.python.is_some(), "{event:?}");
            if let Outcome::Returned(text) = &event.outcome {
                let facts = &event.facts;
                assert!(
                    text.is_empty() || facts.value.is_some() || facts.process.is_some(),
                    "line {} shows {:?} but its JSON has no result",
                    event.seq,
                    text.en
                );
            }
        }
        // netlab's own lines are diagnoses and the session's end: none says that netlab
        // itself could not go on.
        let own: Vec<&Event> = recorded
            .events
            .iter()
            .filter(|e| e.side == NETLAB)
            .collect();
        for event in own.iter().rev().skip(1) {
            assert!(event.facts.diagnosis.is_some(), "{event:?}");
        }
        let end = recorded.end.as_ref().expect("the session ended");
        let session = end.session.as_ref().expect("a session's end");
        let codes: Vec<&'static str> = recorded
            .events
            .iter()
            .filter_map(|e| e.facts.diagnosis)
            .collect();
        assert_eq!(session.diagnoses, codes);
        codes
    }

    #[test]
    fn serve_01_a_silent_client() {
        let recorded = serve_once("01", |addr| {
            let mut silent = TcpStream::connect(addr).unwrap();
            assert_eq!(read_all(&mut silent), b"");
        });
        assert_eq!(check(&recorded), ["silent_peer"]);
    }

    #[test]
    fn serve_07_a_client_that_leaves_a_tail() {
        let recorded = serve_once("07", |addr| {
            let mut client = TcpStream::connect(addr).unwrap();
            client.write_all(b"seq 1000 1400").unwrap();
            let mut head = [0u8; 1024];
            client.read_exact(&mut head).unwrap();
            client.write_all(b"echo hello").unwrap();
            // Like the course's client, which waits in input() meanwhile: the new reply
            // arrives behind the unread tail before the client reads again.
            while crate::sys::recv_queue(client.as_fd()).unwrap() <= 981 {
                std::thread::sleep(Duration::from_millis(1));
            }
            let mut rest = vec![0u8; 981 + 6];
            client.read_exact(&mut rest).unwrap();
            client.write_all(b"rm -rf /").unwrap();
            client.shutdown(std::net::Shutdown::Write).unwrap();
            let refusal = String::from_utf8(read_all(&mut client)).unwrap();
            assert!(
                refusal.contains("'rm -rf /' is not one of them"),
                "{refusal}"
            );
        });
        assert_eq!(check(&recorded), ["stale_tail"]);
    }

    #[test]
    fn serve_08_an_upload_that_stalls() {
        let recorded = serve_once("08", |addr| {
            let mut client = TcpStream::connect(addr).unwrap();
            client.write_all(b"put").unwrap();
            let mut ready = [0u8; 9];
            client.read_exact(&mut ready).unwrap();
            client.write_all(&100i32.to_le_bytes()).unwrap();
            client.write_all(b"0123456789").unwrap();
            assert_eq!(read_all(&mut client), b"");
        });
        assert_eq!(check(&recorded), ["stalled"]);
    }

    #[test]
    fn serve_10_a_datagram_cut() {
        let recorded = serve_once("10", |addr| {
            let client = UdpSocket::bind("127.0.0.1:0").unwrap();
            client.send_to(&[b'a'; 2000], addr).unwrap();
            let mut reply = [0u8; 2048];
            client.recv_from(&mut reply).unwrap();
        });
        assert_eq!(check(&recorded), ["datagram_cut"]);
    }

    #[test]
    fn serve_09_a_command_and_an_upload_whose_md5_lies() {
        /// One reply as lab 09 frames it: its data.
        fn framed(client: &mut TcpStream) -> Vec<u8> {
            let mut len = [0u8; 4];
            client.read_exact(&mut len).unwrap();
            let mut json = vec![0u8; i32::from_le_bytes(len) as usize];
            client.read_exact(&mut json).unwrap();
            let header: serde_json::Value = serde_json::from_slice(&json).unwrap();
            let mut data = vec![0u8; header["total_size"].as_u64().unwrap() as usize];
            client.read_exact(&mut data).unwrap();
            data
        }
        let recorded = serve_once("09", |addr| {
            let mut client = TcpStream::connect(addr).unwrap();
            client.write_all(b"echo hello").unwrap();
            assert_eq!(framed(&mut client), b"hello\n");
            client.write_all(b"put").unwrap();
            assert_eq!(framed(&mut client), b"ready");
            let json = br#"{"filename": "a.txt", "total_size": 5, "md5": "00000000000000000000000000000000"}"#;
            let len = (json.len() as i32).to_le_bytes();
            client
                .write_all(&[&len[..], &json[..], b"hello"].concat())
                .unwrap();
            assert_eq!(read_all(&mut client), b"");
        });
        assert_eq!(check(&recorded), ["md5_mismatch"]);
    }

    #[test]
    fn serve_12_the_default_format() {
        let recorded = serve_once("12", |addr| {
            let client = UdpSocket::bind("127.0.0.1:0").unwrap();
            let mut reply = [0u8; 256];
            client.send_to(b"", addr).unwrap();
            client.recv_from(&mut reply).unwrap();
        });
        assert!(check(&recorded).is_empty());
    }

    #[test]
    fn serve_18_answers_client_2_while_client_1_is_connected() {
        let recorded = serve_once("18", |addr| {
            let mut first = TcpStream::connect(addr).unwrap();
            let mut second = TcpStream::connect(addr).unwrap();
            second.write_all(b"hello").unwrap();
            let mut answer = [0u8; 5];
            second.read_exact(&mut answer).unwrap();
            assert_eq!(&answer, b"HELLO");
            first.write_all(b"one").unwrap();
            let mut answer = [0u8; 3];
            first.read_exact(&mut answer).unwrap();
            assert_eq!(&answer, b"ONE");
        });
        assert!(check(&recorded).is_empty());
        let seq_of = |call: &str| {
            recorded
                .events
                .iter()
                .find(|e| e.facts.python.as_deref() == Some(call))
                .map(|e| e.seq)
                .unwrap_or_else(|| panic!("no {call}"))
        };
        assert!(seq_of("conn2.send(b'HELLO')") < seq_of("data = conn1.recv(1024)"));
        assert!(seq_of("conn1, addr = server.accept()") < seq_of("conn2, addr = server.accept()"));
    }

    #[test]
    fn serve_19_a_silent_client_holds_up_nobody() {
        let recorded = serve_once("19", |addr| {
            let mut silent = TcpStream::connect(addr).unwrap();
            let mut talker = TcpStream::connect(addr).unwrap();
            talker.write_all(b"hi").unwrap();
            let mut answer = [0u8; 2];
            talker.read_exact(&mut answer).unwrap();
            assert_eq!(&answer, b"HI");
            // netlab gives up on the silent one after the declared wait and closes it.
            assert_eq!(read_all(&mut silent), b"");
        });
        assert_eq!(check(&recorded), ["silent_peer"]);
    }

    #[test]
    fn connect_01_nothing_listens() {
        let free = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = free.local_addr().unwrap().port();
        drop(free);
        let recorded = connect_port("01", port);
        assert_eq!(check(&recorded), ["refused"]);
    }

    #[test]
    fn connect_04_a_server_that_keeps_its_end_open() {
        let recorded = connect_to("04", |listener, ended| {
            let (mut conn, _) = listener.accept().unwrap();
            let mut buf = [0u8; 1024];
            let n = conn.read(&mut buf).unwrap();
            conn.write_all(&buf[..n].to_ascii_uppercase()).unwrap();
            // Its end stays open (CLOSE_WAIT after netlab's FIN) until netlab has ended.
            let _ = ended.recv_timeout(Duration::from_secs(10));
        });
        assert_eq!(check(&recorded), ["not_closed"]);
    }

    #[test]
    fn connect_07_and_08_read_well_behaved_and_overlong_replies() {
        let seq: Vec<u8> = (1000..=1400)
            .flat_map(|n| format!("{n}\n").into_bytes())
            .collect();
        let out = seq.clone();
        let recorded = connect_to("07", move |listener, _| {
            let (mut conn, _) = listener.accept().unwrap();
            let mut buf = [0u8; 1024];
            let _ = conn.read(&mut buf).unwrap();
            conn.write_all(&out).unwrap();
            let _ = conn.read(&mut buf).unwrap();
            conn.write_all(b"hello\n").unwrap();
            let _ = read_all(&mut conn);
        });
        assert!(check(&recorded).is_empty());
        let recorded = connect_to("08", move |listener, _| {
            let (mut conn, _) = listener.accept().unwrap();
            let mut buf = [0u8; 1024];
            let _ = conn.read(&mut buf).unwrap();
            let header = (seq.len() as i32).to_le_bytes();
            conn.write_all(&[&header[..], &seq, b"EXTRA"].concat())
                .unwrap();
            let _ = read_all(&mut conn);
        });
        assert_eq!(check(&recorded), ["leftover_bytes"]);
    }
}
