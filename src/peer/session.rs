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
use super::{endpoint, Connect, Ended, PeerMode, PeerResult, Role, Serve};
use crate::event::Text;
use crate::recorder::TraceOptions;
use crate::render::{LabEnd, Sink};
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

/// The trace's heading: the lab's title and who plays what.
fn heading(title: &Text, role: Role) -> Text {
    match role {
        Role::Serve => Text::new(
            format!(
                "{} · netlab serve: netlab is the server, your program the client",
                title.en
            ),
            format!(
                "{} · netlab serve：netlab 当服务端，你的程序当客户端",
                title.zh
            ),
        ),
        Role::Connect => Text::new(
            format!(
                "{} · netlab connect: netlab is the client, your program the server",
                title.en
            ),
            format!(
                "{} · netlab connect：netlab 当客户端，你的程序当服务端",
                title.zh
            ),
        ),
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
    let udp = matches!(handler, Serve::Datagrams(_));
    if settings.port != 0 {
        endpoint::probe_bind(settings.port, udp).map_err(|err| SessionError::PortUnavailable {
            port: settings.port,
            err,
        })?;
    }
    let stop = crate::cleanup::stop_on_sigint()?;
    let trace = Trace::new(id, options, sink, None).map_err(SessionError::Output)?;
    trace
        .start(&heading(title, Role::Serve))
        .map_err(SessionError::Output)?;
    let cx = Context::new(
        trace.clone(),
        Role::Serve,
        Outside::new(settings.wait, Some(stop)),
    );
    let outcome = match handler {
        Serve::Calls(program) => serve_calls(&cx, program, settings, ready),
        Serve::Datagrams(program) => serve_datagrams(&cx, program, settings, ready),
    };
    finish(&trace, id, outcome)
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
        .start(&heading(title, Role::Connect))
        .map_err(SessionError::Output)?;
    let cx = Context::new(
        trace.clone(),
        Role::Connect,
        Outside::new(settings.wait, None),
    );
    let outcome = run_client(&cx, program, settings);
    finish(&trace, id, outcome)
}

/// Ends the trace; an output error comes first, since nobody saw the rest.
fn finish(
    trace: &Trace,
    id: &'static str,
    outcome: Result<Report, SessionError>,
) -> Result<Report, SessionError> {
    let end = LabEnd {
        id,
        stopped: outcome.as_ref().err().map(ToString::to_string),
        next: None,
        peer_session: true,
    };
    let written = trace.finish(&end);
    match (outcome, written) {
        (_, Err(err)) => Err(SessionError::Output(err)),
        (outcome, Ok(())) => outcome,
    }
}

fn serve_calls(
    cx: &Context,
    program: fn(&mut Call) -> PeerResult,
    settings: Settings,
    ready: &mut dyn FnMut(SocketAddr),
) -> Result<Report, SessionError> {
    let trace = &cx.trace;
    let server = trace.side("server");
    trace.section("netlab's server switches on", "netlab 的服务端开机");
    let phone = server.tcp("phone")?;
    phone.set_reuseaddr(true)?;
    cx.note(
        "netlab sets SO_REUSEADDR before bind, the course's fix from lab 06: a connection this server closes first stays in TIME_WAIT on its port for a minute, and without the option the next `netlab serve` could not bind the port during that time.",
        "netlab 在 bind 之前设置了 SO_REUSEADDR，也就是实验 06 里课程的解决办法：这个服务端先关闭的连接会在它的端口上停留一分钟 TIME_WAIT，不设这个选项的话，这段时间里下一次 `netlab serve` 就绑定不了这个端口。",
    );
    let number = bind(trace, &phone, settings.port)?;
    phone.listen(5)?;
    trace.kernel().tcp_state_now(&phone)?;
    let shown = trace.registry().show_addr(&number);
    cx.note(
        format!("netlab's server waits in accept() for your client at {shown}: start it in another terminal. It serves one client after another (the link loop) until Ctrl-C."),
        format!("netlab 的服务端在 {shown} 上的 accept() 里等你的客户端：请在另一个终端里启动它。它一个接一个地服务客户端（链接循环），直到按下 Ctrl-C。"),
    );
    if let Addr::Inet(addr) = number {
        ready(addr);
    }
    let mut report = Report::default();
    loop {
        trace.recorder().flush();
        match cx.outside.readable_within(phone.borrowed_fd(), None)? {
            Waited::Stopped => {
                report.stopped = true;
                break;
            }
            Waited::Ready => {}
            Waited::TimedOut => continue,
        }
        report.conversations += 1;
        let n = report.conversations;
        trace
            .recorder()
            .section(Text::new(format!("Client {n}"), format!("第 {n} 个客户端")));
        let Ok((conn, _)) = phone.accept("conn") else {
            continue; // the failed accept is in the trace; the next client may do better
        };
        let mut call = Call::new(cx.clone(), conn);
        let ended = program(&mut call);
        report.stopped = settle(cx, ended);
        call.hang_up();
        if report.stopped || settings.once || trace.recorder().output_failed() {
            break;
        }
    }
    phone.close();
    report.diagnoses = cx.findings();
    let how = if report.stopped { "Ctrl-C" } else { "--once" };
    cx.summary(
        Text::new(
            format!("serve ended ({how})"),
            format!("serve 结束（{how}）"),
        ),
        counted(&report, "client", "clients", "个客户端"),
    );
    Ok(report)
}

fn serve_datagrams(
    cx: &Context,
    program: fn(&mut Datagrams) -> PeerResult,
    settings: Settings,
    ready: &mut dyn FnMut(SocketAddr),
) -> Result<Report, SessionError> {
    let trace = &cx.trace;
    let server = trace.side("server");
    trace.section("netlab's server starts", "netlab 的服务端启动");
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
    let mut report = Report::default();
    loop {
        trace.recorder().flush();
        match cx
            .outside
            .readable_within(datagrams.sock().borrowed_fd(), None)?
        {
            Waited::Stopped => {
                report.stopped = true;
                break;
            }
            Waited::Ready => {}
            Waited::TimedOut => continue,
        }
        report.conversations += 1;
        let n = report.conversations;
        trace
            .recorder()
            .section(Text::new(format!("Request {n}"), format!("第 {n} 个请求")));
        datagrams.set_turn(n);
        let ended = program(&mut datagrams);
        report.stopped = settle(cx, ended);
        if report.stopped || settings.once || trace.recorder().output_failed() {
            break;
        }
    }
    datagrams.close();
    report.diagnoses = cx.findings();
    let how = if report.stopped { "Ctrl-C" } else { "--once" };
    cx.summary(
        Text::new(
            format!("serve ended ({how})"),
            format!("serve 结束（{how}）"),
        ),
        counted(&report, "request", "requests", "个请求"),
    );
    Ok(report)
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
    let report = Report {
        conversations: 1,
        diagnoses: cx.findings(),
        stopped,
    };
    let result = if report.diagnoses.is_empty() {
        Text::new("no diagnosis", "没有诊断")
    } else {
        let codes = report.diagnoses.join(", ");
        Text::new(format!("diagnosis: {codes}"), format!("诊断：{codes}"))
    };
    cx.summary(Text::new("connect ended", "connect 结束"), result);
    Ok(report)
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
    cx.summary(
        Text::new(
            "netlab could not go on with this conversation",
            "netlab 无法继续这次对话",
        ),
        Text::same(err.to_string()),
    );
}

/// `2 clients, 1 diagnosis` in both languages.
fn counted(report: &Report, one: &str, many: &str, zh: &str) -> Text {
    let n = report.conversations;
    let d = report.diagnoses.len();
    let noun = if n == 1 { one } else { many };
    let diagnoses = if d == 1 { "diagnosis" } else { "diagnoses" };
    Text::new(
        format!("{n} {noun}, {d} {diagnoses}"),
        format!("{n} {zh}，{d} 条诊断"),
    )
}
