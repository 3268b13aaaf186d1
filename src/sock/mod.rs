//! Sockets whose calls record themselves in Python notation.
//!
//! Every lab socket is a real kernel socket made step by step with socket2, exactly as a
//! Python program makes it (no SO_REUSEADDR, the backlog the lab asks for). Internally each
//! socket is non-blocking, so a call that would block in Python is *shown* blocking, on the
//! kernel's evidence: nothing is on its way to it and a non-blocking attempt (or a
//! zero-timeout poll) says "not ready" (see [`wait`] for the evidence and the few bounds).
//!
//! Ordering never depends on timing: before a socket reads, netlab waits until everything an
//! in-process peer already sent (data, FIN, RST) has arrived, reading that from the kernel.

use std::io;
pub use std::net::Shutdown;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::Path;
use std::rc::Rc;
use std::time::Duration;

use rustix::net::RecvFlags;
use socket2::{Domain, Socket, Type};

use crate::event::{ByteFacts, Count, Facts, Kind, Outcome, SocketFacts, Text};
use crate::names::PortRole;
use crate::phrases;
use crate::pyrepr;
use crate::recorder::Recorder;
use crate::sys;

pub mod addr;
pub mod pending;
mod pyint;
pub(crate) mod registry;
pub mod select;
pub mod sendall;
mod settle;
pub mod socketserver;
mod thread;
pub mod wait;

use addr::{receives_at, UnixPathTooLong};
pub use addr::{Addr, Proto};
use registry::{Registry, SockId, SockRecord};
use settle::Wait;
use wait::Blocked;

/// Longest bytes literal shown whole in a trace line; longer data shows head ... tail.
pub const PREVIEW_BYTES: usize = 64;

/// A program in the lab (`server`, `client` ...), or one of its threads (`server thread-1`,
/// see [`Side::start_thread`]). Sockets it makes record calls as its own.
#[derive(Clone)]
pub struct Side {
    recorder: Recorder,
    registry: Registry,
    /// The label its lines carry: the program's name, or the program's and the thread's.
    name: Rc<str>,
    /// The program this side is (or is a thread of), shared by all its threads.
    program: Rc<thread::Program>,
}

impl Side {
    pub(crate) fn new(recorder: Recorder, registry: Registry, name: &str) -> Side {
        Side {
            recorder,
            registry,
            name: name.into(),
            program: Rc::new(thread::Program::new(name)),
        }
    }

    /// The label of this side's lines: `server`, `client-2`, `server thread-1`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `var = socket(AF_INET, SOCK_STREAM)`
    pub fn tcp(&self, var: &str) -> io::Result<Sock> {
        self.socket(Proto::Tcp, var)
    }

    /// `var = socket(AF_INET, SOCK_DGRAM)`
    pub fn udp(&self, var: &str) -> io::Result<Sock> {
        self.socket(Proto::Udp, var)
    }

    /// `var = socket(AF_UNIX, SOCK_STREAM)`
    pub fn unix_stream(&self, var: &str) -> io::Result<Sock> {
        self.socket(Proto::UnixStream, var)
    }

    fn socket(&self, proto: Proto, var: &str) -> io::Result<Sock> {
        self.begin();
        let (domain, ty) = match proto {
            Proto::Tcp => (Domain::IPV4, Type::STREAM),
            Proto::Udp => (Domain::IPV4, Type::DGRAM),
            Proto::UnixStream => (Domain::UNIX, Type::STREAM),
        };
        let call = format!("{var} = {}", proto.python());
        let made = Socket::new(domain, ty, None).and_then(|s| s.set_nonblocking(true).map(|_| s));
        match made {
            Ok(socket) => {
                self.record(call, Outcome::Returned(Text::same("")));
                let sock = Sock::adopt(self.clone(), var, proto, socket);
                sock.identify();
                Ok(sock)
            }
            Err(err) => Err(self.raise(call, err)),
        }
    }

    /// A call of this side is about to start: the trace's gate (see `Recorder::begin`).
    pub(crate) fn begin(&self) {
        self.recorder.begin();
    }

    /// The lab's sockets and stable names.
    pub(crate) fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Records a program's call, written in Python. A result that reads the same in both
    /// languages is the Python value itself; a call whose line explains its value in words
    /// states the value with [`Side::facts`].
    pub(crate) fn record(&self, call: String, outcome: Outcome) {
        self.record_at(call, None, outcome);
    }

    /// Like [`Side::record`]; `continues` is the line where the same call was shown blocked,
    /// when it goes on here (a thread that waited in `recv()` while others ran): the line
    /// then says so, `data = conn.recv(1024) (continued from line 9)`.
    pub(crate) fn record_at(&self, call: String, continues: Option<u32>, outcome: Outcome) {
        let value = match &outcome {
            Outcome::Returned(text) if text.en == text.zh && !text.en.is_empty() => {
                Some(text.en.to_string())
            }
            _ => None,
        };
        let line = match continues {
            Some(line) => phrases::continued_from(&call, line),
            None => Text::same(call.as_str()),
        };
        self.record_text(line, outcome);
        self.facts(|f| {
            f.python = Some(call);
            f.value = value;
            f.continues = continues;
        });
    }

    /// Adds to the data of the line just recorded (see [`Facts`]).
    pub(crate) fn facts(&self, add: impl FnOnce(&mut Facts)) {
        self.recorder.facts(add);
    }

    pub(crate) fn record_text(&self, call: Text, outcome: Outcome) {
        if self.recorder.options().wire {
            // The call's packets, and the kernel's answers to them, are then all in the
            // capture whose lines follow this one (see crate::wire::settle).
            crate::wire::settle::until_quiet(wait::EXPECTED);
        }
        self.recorder.emit(&self.name, Kind::Call, call, outcome);
    }

    /// Records a failed call as the exception Python raises, and hands the error back.
    pub(crate) fn raise(&self, call: String, err: io::Error) -> io::Error {
        self.raise_at(call, None, err)
    }

    /// Like [`Side::raise`] for a call that goes on from a blocked line (see
    /// [`Side::record_at`]).
    pub(crate) fn raise_at(
        &self,
        call: String,
        continues: Option<u32>,
        err: io::Error,
    ) -> io::Error {
        let outcome = match crate::errno::of(&err) {
            Some(errno) => Outcome::Raised(errno),
            None if is_unix_path_too_long(&err) => Outcome::RaisedPython(
                crate::event::PyException::new("OSError", "AF_UNIX path too long"),
            ),
            None => Outcome::Returned(Text::same(format!("error: {err}"))),
        };
        let python_error = matches!(outcome, Outcome::Returned(_));
        self.record_at(call, continues, outcome);
        if python_error {
            // Not a Python value: netlab's own words about an error Python has no name for.
            self.facts(|f| f.value = None);
        }
        err
    }

    /// `os.unlink(path)`: removes a file (an AF_UNIX socket's leftover name, say).
    pub fn unlink(&self, path: &Path) -> io::Result<()> {
        self.begin();
        let call = format!(
            "os.unlink({})",
            pyrepr::str_literal(&self.registry.path(path))
        );
        match std::fs::remove_file(path) {
            Ok(()) => {
                self.record(call, Outcome::Returned(Text::same("")));
                Ok(())
            }
            Err(err) => Err(self.raise(call, err)),
        }
    }
}

fn is_unix_path_too_long(err: &io::Error) -> bool {
    err.get_ref()
        .is_some_and(|inner| inner.is::<UnixPathTooLong>())
}

/// A lab socket. Dropping it closes the fd silently; `close()` records the call.
pub struct Sock {
    side: Side,
    var: String,
    proto: Proto,
    /// Shared with the registry only as a weak handle, so dropping it closes the socket.
    socket: Rc<Socket>,
    id: SockId,
    /// Python's mode: `setblocking(False)` makes calls raise BlockingIOError instead of waiting.
    blocking: bool,
}

/// The error a call returns when it was shown blocked (Python would still be waiting); not
/// a BlockingIOError that a non-blocking socket raised (see [`raised_blocking_io`]).
pub fn is_blocked(err: &io::Error) -> bool {
    err.kind() == io::ErrorKind::WouldBlock && err.raw_os_error().is_none()
}

/// The error of a call on a non-blocking socket that raised
/// `BlockingIOError: [Errno 11] Resource temporarily unavailable` (EAGAIN): the kernel had
/// nothing for it, and the call returned at once instead of waiting.
pub fn raised_blocking_io(err: &io::Error) -> bool {
    err.raw_os_error() == Some(libc::EAGAIN)
}

/// The error a call shown blocked returns, carrying why it was.
fn blocked_error(why: Blocked) -> io::Error {
    io::Error::new(io::ErrorKind::WouldBlock, why)
}

/// Why a call was shown blocked, from the error it returned.
fn why_blocked(err: &io::Error) -> Blocked {
    err.get_ref()
        .and_then(|inner| inner.downcast_ref::<Blocked>())
        .copied()
        .unwrap_or(Blocked::NoData)
}

impl Sock {
    fn adopt(side: Side, var: &str, proto: Proto, socket: Socket) -> Sock {
        let socket = Rc::new(socket);
        // The register names the program (the wire's `server > client`): a process's threads
        // share its sockets.
        let id = side
            .registry
            .add(SockRecord::new(proto, side.program.name(), var, &socket));
        let sock = Sock {
            side,
            var: var.to_string(),
            proto,
            socket,
            id,
            blocking: true,
        };
        sock.refresh_addrs(PortRole::Ephemeral, false);
        sock
    }

    /// Another handle on the socket `id` of this lab while it is open (None once closed),
    /// for an engine step that needs it for a moment: a selector settles what it watches.
    /// Never kept beyond that step, so the lab's `close()` still closes the socket.
    pub(crate) fn view(side: &Side, id: SockId, var: &str) -> Option<Sock> {
        let record = side.registry.get(id);
        Some(Sock {
            side: side.clone(),
            var: var.to_string(),
            proto: record.proto,
            socket: record.socket()?,
            id,
            blocking: true,
        })
    }

    /// This socket's index in the register of the lab's sockets.
    pub(crate) fn id(&self) -> SockId {
        self.id
    }

    /// Whether the socket listens (a `listen()` succeeded).
    pub(crate) fn is_listening(&self) -> bool {
        self.registry().get(self.id).listening
    }

    /// The Python variable name, e.g. `conn`.
    pub fn var(&self) -> &str {
        &self.var
    }

    pub fn side(&self) -> &Side {
        &self.side
    }

    pub fn proto(&self) -> Proto {
        self.proto
    }

    /// The socket's fd, open for as long as the borrow lasts.
    pub(crate) fn borrowed_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }

    fn registry(&self) -> &Registry {
        &self.side.registry
    }

    pub(crate) fn recorder(&self) -> &Recorder {
        &self.side.recorder
    }

    /// This socket's own address, without recording a call.
    pub fn local_addr(&self) -> io::Result<Addr> {
        Ok(Addr::from_sockaddr(&self.socket.local_addr()?))
    }

    pub fn peer_addr(&self) -> io::Result<Addr> {
        Ok(Addr::from_sockaddr(&self.socket.peer_addr()?))
    }

    /// This connection's two ends (own, peer) as the register saw them when it was made
    /// (accept, connect). Unlike [`Sock::peer_addr`] they stay known once the peer has
    /// reset the connection, when getpeername() fails with ENOTCONN.
    pub(crate) fn known_ends(&self) -> Option<(Addr, Addr)> {
        let record = self.registry().get(self.id);
        record.local.zip(record.peer)
    }

    /// How an address shows in this trace (named ports, named temp dirs).
    pub fn show_addr(&self, addr: &Addr) -> String {
        self.registry().show_addr(addr)
    }

    /// An address's port as the trace names it (`PORT`, `CLIENT_PORT_1`); None for a path.
    fn port_name(&self, addr: &Addr) -> Option<String> {
        addr.port().map(|port| self.registry().port(port))
    }

    /// Reads the kernel's view of our addresses into the register; names a new local port.
    /// `chosen_by_kernel`: see [`Registry::set_addrs`]. A port the lab asked for by number (a
    /// server restarted on its old port) keeps its name.
    fn refresh_addrs(&self, role: PortRole, chosen_by_kernel: bool) {
        let local = self
            .socket
            .local_addr()
            .ok()
            .map(|a| Addr::from_sockaddr(&a));
        let peer = self
            .socket
            .peer_addr()
            .ok()
            .map(|a| Addr::from_sockaddr(&a));
        self.registry()
            .set_addrs(self.id, local, peer, role, chosen_by_kernel);
    }

    pub(crate) fn call(&self, text: impl std::fmt::Display) -> String {
        format!("{}.{}", self.var, text)
    }

    /// Adds which socket the line just recorded is about (see [`SocketFacts`]).
    pub(crate) fn identify(&self) {
        let facts = self.socket_facts();
        self.side.facts(|f| f.socket = Some(facts));
    }

    /// This socket as data, as the register has it now.
    pub(crate) fn socket_facts(&self) -> SocketFacts {
        self.registry().socket_facts(self.id)
    }

    /// Records a call on this socket: its line, and which socket it was made on.
    pub(crate) fn record(&self, call: String, outcome: Outcome) {
        self.side.record(call, outcome);
        self.identify();
    }

    /// Like [`Sock::record`]; `continues` as in [`Side::record_at`].
    fn record_at(&self, call: String, continues: Option<u32>, outcome: Outcome) {
        self.side.record_at(call, continues, outcome);
        self.identify();
    }

    /// Records a failed call on this socket as the exception Python raises.
    fn raise_plain(&self, call: String, err: io::Error) -> io::Error {
        let err = self.side.raise(call, err);
        self.identify();
        err
    }

    fn returned(&self, call: String, result: Text) {
        self.record(call, Outcome::Returned(result));
    }

    /// Records a call that returns None in Python: nothing on success, the exception on error.
    fn finish(&self, call: String, result: io::Result<()>) -> io::Result<()> {
        match result {
            Ok(()) => {
                self.returned(call, Text::same(""));
                Ok(())
            }
            Err(err) => Err(self.raise_plain(call, err)),
        }
    }

    fn blocked(&self, call: String, what: Text, why: Blocked) -> io::Error {
        self.record(call, Outcome::Blocked(what));
        blocked_error(why)
    }

    /// Records a blocked `recv`, `recvfrom` or `accept` with what showed it blocked.
    fn blocked_waiting(&self, call: String, why: Blocked) -> io::Error {
        self.blocked_waiting_at(call, None, why)
    }

    /// Like [`Sock::blocked_waiting`]; `continues` as in [`Side::record_at`].
    fn blocked_waiting_at(&self, call: String, continues: Option<u32>, why: Blocked) -> io::Error {
        let what = match why {
            Blocked::NoData => phrases::recv_blocks(),
            Blocked::NoDatagram => phrases::recvfrom_blocks(),
            Blocked::NoConnection => phrases::accept_blocks(),
            Blocked::SynDropped => phrases::connect_blocks(),
            Blocked::BufferFull => phrases::buffer_full_blocks(),
            Blocked::NothingReady => phrases::select_blocks(),
            Blocked::Watched(limit) => phrases::blocks_watched(limit.as_millis()),
        };
        self.record_at(call, continues, Outcome::Blocked(what));
        blocked_error(why)
    }

    /// Records a failed call as the exception Python raises. The kernel hands a pending error
    /// (an ICMP "port unreachable" on a connected UDP socket) to one call only.
    fn raise(&self, call: String, err: io::Error) -> io::Error {
        self.raise_at(call, None, err)
    }

    /// Like [`Sock::raise`]; `continues` as in [`Side::record_at`].
    fn raise_at(&self, call: String, continues: Option<u32>, err: io::Error) -> io::Error {
        self.registry()
            .update(self.id, |r| r.icmp_error_due = false);
        let err = self.side.raise_at(call, continues, err);
        self.identify();
        err
    }

    /// `setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)`
    pub fn set_reuseaddr(&self, on: bool) -> io::Result<()> {
        self.side.begin();
        let call = self.call(format_args!(
            "setsockopt(SOL_SOCKET, SO_REUSEADDR, {})",
            i32::from(on)
        ));
        self.finish(call, self.socket.set_reuse_address(on))
    }

    /// `setsockopt(SOL_SOCKET, SO_LINGER, struct.pack('ii', 1, 0))`: close() will then reset
    /// the connection (RST) instead of closing it politely (FIN).
    pub fn set_linger_zero(&self) -> io::Result<()> {
        self.side.begin();
        let call = self.call("setsockopt(SOL_SOCKET, SO_LINGER, struct.pack('ii', 1, 0))");
        self.finish(call, self.socket.set_linger(Some(Duration::ZERO)))
    }

    /// `setsockopt(SOL_SOCKET, SO_SNDBUF, n)` (`send` = true) or `SO_RCVBUF`.
    pub fn set_buffer_size(&self, send: bool, size: usize) -> io::Result<()> {
        self.side.begin();
        let name = if send { "SO_SNDBUF" } else { "SO_RCVBUF" };
        let call = self.call(format_args!("setsockopt(SOL_SOCKET, {name}, {size})"));
        let result = if send {
            self.socket.set_send_buffer_size(size)
        } else {
            self.socket.set_recv_buffer_size(size)
        };
        self.finish(call, result)
    }

    /// `getsockopt(SOL_SOCKET, SO_SNDBUF)` or `SO_RCVBUF`: what the kernel really uses.
    pub fn get_buffer_size(&self, send: bool) -> io::Result<usize> {
        self.side.begin();
        let name = if send { "SO_SNDBUF" } else { "SO_RCVBUF" };
        let call = self.call(format_args!("getsockopt(SOL_SOCKET, {name})"));
        let result = if send {
            self.socket.send_buffer_size()
        } else {
            self.socket.recv_buffer_size()
        };
        match result {
            Ok(size) => {
                self.returned(call, Text::same(size.to_string()));
                Ok(size)
            }
            Err(err) => Err(self.raise_plain(call, err)),
        }
    }

    /// `setblocking(flag)`: in non-blocking mode calls raise BlockingIOError instead of waiting.
    pub fn setblocking(&mut self, flag: bool) {
        self.side.begin();
        let call = self.call(format_args!(
            "setblocking({})",
            if flag { "True" } else { "False" }
        ));
        self.blocking = flag;
        self.returned(call, Text::same(""));
    }

    /// `bind(addr)`. Binding port 0 lets the kernel pick a free port; the trace names it
    /// (`PORT`) so output stays the same from run to run.
    pub fn bind(&self, addr: &Addr) -> io::Result<()> {
        self.side.begin();
        let call = self.call(format_args!("bind({})", self.show_addr(addr)));
        if let Err(err) = addr.to_sockaddr().and_then(|a| self.socket.bind(&a)) {
            return Err(self.raise_plain(call, err));
        }
        self.refresh_addrs(PortRole::Bound, addr.port() == Some(0));
        let local = self.local_addr()?;
        let result = match (addr.port(), local.port()) {
            (Some(0), Some(port)) => phrases::kernel_chose_port(&self.registry().port(port)),
            _ => Text::same(""),
        };
        let shows_none = !result.is_empty();
        self.returned(call, result);
        let port = self.port_name(&local);
        self.side.facts(|f| {
            if shows_none {
                f.value = Some("None".into());
            }
            f.port = port;
        });
        Ok(())
    }

    /// `listen(backlog)`
    pub fn listen(&self, backlog: i32) -> io::Result<()> {
        self.side.begin();
        let call = self.call(format_args!("listen({backlog})"));
        let result = self.socket.listen(backlog);
        if result.is_ok() {
            self.registry().update(self.id, |r| r.listening = true);
        }
        self.finish(call, result)
    }

    /// `conn, addr = var.accept()`: returns the new connection's socket, named `conn_var`.
    pub fn accept(&self, conn_var: &str) -> io::Result<(Sock, Addr)> {
        self.accept_as(conn_var, "addr")
    }

    /// Like [`Sock::accept`] with other names on the left, e.g.
    /// `request, client_address = server.socket.accept()`.
    pub fn accept_as(&self, conn_var: &str, addr_var: &str) -> io::Result<(Sock, Addr)> {
        self.side.begin();
        let call = format!("{conn_var}, {addr_var} = {}", self.call("accept()"));
        if self.blocking {
            if let Wait::Blocked(why) = self.wait_acceptable()? {
                return Err(self.blocked_waiting(call, why));
            }
        } else {
            // A client of this lab whose connect() returned is in the queue, or the ACK that
            // puts it there is on its way: an EAGAIN must mean that the queue is empty.
            self.settle_accept_queue();
        }
        let accepted = self.take_connection(conn_var);
        self.record_accepted(call, None, addr_var, accepted)
    }

    /// Takes the next connection out of the accept queue, without recording.
    fn take_connection(&self, conn_var: &str) -> io::Result<(Sock, Addr)> {
        let (socket, peer) = self.socket.accept()?;
        socket.set_nonblocking(true)?;
        let peer = Addr::from_sockaddr(&peer);
        Ok((
            Sock::adopt(self.side.clone(), conn_var, self.proto, socket),
            peer,
        ))
    }

    /// Records what an accept() gave: `addr_var = (...)`, or the exception; `continues` as in
    /// [`Side::record_at`].
    fn record_accepted(
        &self,
        call: String,
        continues: Option<u32>,
        addr_var: &str,
        accepted: io::Result<(Sock, Addr)>,
    ) -> io::Result<(Sock, Addr)> {
        match accepted {
            Ok((conn, peer)) => {
                let addr = self.show_addr(&peer);
                let result = Text::same(format!("{addr_var} = {addr}"));
                self.record_at(call, continues, Outcome::Returned(result));
                let peer_port = self.port_name(&peer);
                self.side.facts(|f| {
                    f.value = Some(addr);
                    f.peer = peer_port;
                });
                Ok((conn, peer))
            }
            Err(err) => {
                let err = self.side.raise_at(call, continues, err);
                self.identify();
                Err(err)
            }
        }
    }

    /// `connect(addr)`; raises what Python raises (ConnectionRefusedError ...).
    pub fn connect(&self, addr: &Addr) -> io::Result<()> {
        self.side.begin();
        let call = self.call(format_args!("connect({})", self.show_addr(addr)));
        match self.connect_inner(addr) {
            Ok(()) => {
                let result = self.connected_result();
                let shows_none = !result.is_empty();
                self.returned(call, result);
                self.connect_facts(addr, shows_none);
                Ok(())
            }
            Err(err) if is_blocked(&err) => {
                // The kernel bound the local port when it sent the SYN: name it now, so a
                // lab can point at this half-open end (CLIENT_PORT_N) in /proc/net/tcp.
                self.refresh_addrs(PortRole::Ephemeral, true);
                let why = why_blocked(&err);
                let what = match why {
                    Blocked::Watched(limit) => phrases::connect_watched(limit.as_millis()),
                    _ => phrases::connect_blocks(),
                };
                let err = self.blocked(call, what, why);
                self.connect_facts(addr, false);
                Err(err)
            }
            Err(err) => Err(self.raise_plain(call, err)),
        }
    }

    /// A connect's ports as data: this end's (the kernel's choice) and the one called.
    fn connect_facts(&self, target: &Addr, shows_none: bool) {
        let port = self.local_addr().ok().and_then(|a| self.port_name(&a));
        let peer = self.port_name(target);
        self.side.facts(|f| {
            if shows_none {
                f.value = Some("None".into());
            }
            f.port = port;
            f.peer = peer;
        });
    }

    /// `connect_ex(addr)`: returns the errno (0 on success) instead of raising.
    pub fn connect_ex(&self, addr: &Addr) -> io::Result<i32> {
        self.side.begin();
        let call = self.call(format_args!("connect_ex({})", self.show_addr(addr)));
        match self.connect_inner(addr) {
            Ok(()) => {
                self.connected_result();
                self.returned(call, Text::same("0"));
                Ok(0)
            }
            Err(err) => match crate::errno::of(&err) {
                Some(errno) => {
                    // The value Python prints: the number alone (the symbol belongs in the
                    // note and in JSON's returned_errno).
                    self.returned(call, Text::same(errno.number.to_string()));
                    self.side.facts(|f| {
                        f.value = Some(errno.number.to_string());
                        f.errno_value = Some((errno.number, errno.symbol));
                    });
                    Ok(errno.number)
                }
                None => Err(self.raise_plain(call, err)),
            },
        }
    }

    fn connected_result(&self) -> Text {
        self.refresh_addrs(PortRole::Ephemeral, true);
        match self.local_addr().ok().and_then(|a| a.port()) {
            Some(port) => phrases::kernel_gave_port(&self.registry().port(port)),
            None => Text::same(""),
        }
    }

    fn connect_inner(&self, addr: &Addr) -> io::Result<()> {
        let target = addr.to_sockaddr()?;
        // Read before the SYN goes out: the lab does not accept while this call runs, so the
        // queue that the SYN meets is this one.
        let queue_full = self.blocking && self.listener_at(addr) == Some(true);
        let to = addr.clone();
        self.registry()
            .update(self.id, |r| r.connecting_to = Some(to));
        match self.socket.connect(&target) {
            Ok(()) => return Ok(()),
            Err(err) if err.raw_os_error() == Some(libc::EINPROGRESS) => {}
            Err(err) => return Err(err),
        }
        if !self.blocking {
            return Err(io::Error::from_raw_os_error(libc::EINPROGRESS));
        }
        self.registry()
            .update(self.id, |r| r.dialling = Some(addr.clone()));
        let connected = if queue_full {
            // The listener's accept queue is over its limit, so its kernel drops our SYN
            // (tcp_conn_request: sk_acceptq_is_full) and no SYN-ACK is on its way: the lab
            // does not accept while this call runs, and only the client's own SYN retry (a
            // timer, 1 s after the first SYN) could try again. A zero-timeout poll confirms
            // that the handshake has not finished.
            self.ready_now(sys::Ready::OUT)?
        } else {
            // A listener with room, one outside this lab, or none: the kernel answers the SYN
            // at once (SYN-ACK or RST); the bound only keeps a broken kernel from hanging.
            self.wait_ready(sys::Ready::OUT, wait::EXPECTED)?
        };
        if !connected {
            return Err(blocked_error(if queue_full {
                Blocked::SynDropped
            } else {
                Blocked::Watched(wait::EXPECTED)
            }));
        }
        self.registry().update(self.id, |r| r.dialling = None);
        match self.socket.take_error()? {
            Some(err) => Err(err),
            None => Ok(()),
        }
    }

    /// Some(full) when a listener of this lab is at `addr`: whether its accept queue is over
    /// its limit (the kernel then drops a SYN, so a handshake cannot finish). Counts the
    /// connections of this lab's clients whose last ACK is still on its way.
    fn listener_at(&self, addr: &Addr) -> Option<bool> {
        let sockets = self.registry().all();
        let id = sockets
            .iter()
            .position(|r| r.listening && r.is_open() && r.local.as_ref() == Some(addr))?;
        let listener = sockets[id].socket()?;
        let expected = settle::unaccepted_clients(&sockets, id);
        settle::settle_accept_queue(listener.as_fd(), expected);
        let info = sys::tcp_info(listener.as_fd()).ok()?;
        Some(info.accept_queue > info.accept_queue_max)
    }

    /// `send(data)`: returns how many bytes the kernel took.
    pub fn send(&self, data: &[u8]) -> io::Result<usize> {
        self.side.begin();
        let call = self.call(format_args!(
            "send({})",
            pyrepr::bytes_preview(data, PREVIEW_BYTES)
        ));
        self.send_inner(call, data, false)
    }

    /// `sendall(data)`: sends everything or raises.
    pub fn sendall(&self, data: &[u8]) -> io::Result<()> {
        self.side.begin();
        let call = self.call(format_args!(
            "sendall({})",
            pyrepr::bytes_preview(data, PREVIEW_BYTES)
        ));
        self.send_inner(call, data, true).map(|_| ())
    }

    /// Counts bytes the kernel took from this socket's sends, so a peer knows what is due.
    pub(super) fn count_sent(&self, n: usize) {
        self.registry().update(self.id, |r| r.sent += n as u64);
    }

    pub(super) fn count_received(&self, n: usize) {
        self.registry().update(self.id, |r| r.received += n as u64);
    }

    fn send_inner(&self, call: String, data: &[u8], all: bool) -> io::Result<usize> {
        self.side.begin();
        let mut sent = 0;
        let mut datagram_to = None;
        loop {
            match self.socket.send(&data[sent..]) {
                Ok(n) => {
                    sent += n;
                    self.count_sent(n);
                    if let (Proto::Udp, Some(to)) = (self.proto, self.peer_addr().ok()) {
                        datagram_to = self.datagram_sent(&to);
                    }
                    // A blocking send on Linux waits until the kernel took everything.
                    if sent == data.len() || (!all && !self.blocking) {
                        break;
                    }
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    if !self.blocking && (sent > 0 && !all) {
                        break;
                    }
                    if !self.blocking {
                        return Err(self.raise(call, err));
                    }
                    // The failed non-blocking attempt is the kernel's answer that the buffer
                    // is full; the send is tried again only if room is on its way.
                    if let Err(why) = self.room_coming()? {
                        let shown = self.recorder().figure(sent);
                        let text = phrases::send_blocks(&shown, data.len());
                        let err = self.blocked(call, text, why);
                        self.side.facts(|f| {
                            let mut bytes = ByteFacts::new(Count::shown(&shown), None);
                            bytes.of = Some(data.len() as u64);
                            f.bytes = Some(bytes);
                        });
                        return Err(err);
                    }
                }
                Err(err) => return Err(self.raise(call, err)),
            }
        }
        let shown = self.recorder().figure(sent);
        let result = if all {
            phrases::sendall_returned(&shown)
        } else {
            Text::same(shown.as_str())
        };
        self.returned(call, result);
        self.side.facts(|f| {
            if all {
                f.value = Some("None".into());
            }
            f.bytes = Some(ByteFacts::new(Count::shown(&shown), None));
            if let Some(socket) = &mut f.socket {
                socket.datagram_to = datagram_to.map(|id| id as u32);
            }
        });
        Ok(sent)
    }

    /// `data = var.recv(bufsize)`: b'' means the peer closed its side.
    pub fn recv(&self, bufsize: usize) -> io::Result<Vec<u8>> {
        self.side.begin();
        let call = format!("data = {}", self.call(format_args!("recv({bufsize})")));
        self.recv_as(call, bufsize)
    }

    /// Like [`Sock::recv`] with a different left-hand side, e.g. `header = client.recv(4)`.
    pub fn recv_into_var(&self, var: &str, bufsize: usize) -> io::Result<Vec<u8>> {
        self.side.begin();
        let call = format!("{var} = {}", self.call(format_args!("recv({bufsize})")));
        self.recv_as(call, bufsize)
    }

    /// A recv recorded as `call` (the left-hand side and the call as the program writes it).
    pub(crate) fn recv_as(&self, call: String, bufsize: usize) -> io::Result<Vec<u8>> {
        self.recv_at(call, None, bufsize)
    }

    /// A recv recorded as `call`; `continues` as in [`Side::record_at`].
    fn recv_at(&self, call: String, continues: Option<u32>, bufsize: usize) -> io::Result<Vec<u8>> {
        self.side.begin();
        let mut buf = self.recv_buffer(&call, bufsize)?;
        if let Wait::Blocked(why) = self.wait_readable(bufsize)? {
            return Err(self.blocked_waiting_at(call, continues, why));
        }
        match sys::recv_append(self.borrowed_fd(), &mut buf, RecvFlags::empty()) {
            Ok(n) => {
                buf.shrink_to_fit();
                let data = buf;
                let udp = self.proto == Proto::Udp;
                self.registry().update(self.id, |r| {
                    r.received += n as u64;
                    if udp {
                        // recv() on a UDP socket takes one whole datagram, as recvfrom does.
                        r.datagrams_received += 1;
                    }
                });
                self.returned_bytes_at(call, continues, &data);
                Ok(data)
            }
            Err(err) => Err(self.raise_at(call, continues, err)),
        }
    }

    /// The buffer a recv of `bufsize` reads into, reserved first as CPython makes the result's
    /// bytes object before it reads or waits: a size the allocator refuses raises MemoryError
    /// (recorded on `call`) instead of aborting netlab.
    fn recv_buffer(&self, call: &str, bufsize: usize) -> io::Result<Vec<u8>> {
        crate::memory::reserve(bufsize, "recv's buffer").inspect_err(|_| {
            let exception = crate::event::PyException::new("MemoryError", "");
            self.record(call.to_string(), Outcome::RaisedPython(exception));
        })
    }

    /// Records a recv that returned `data`: `b'...' (n bytes)`, n being a figure
    /// `Trace::named` can name.
    fn returned_bytes(&self, call: String, data: &[u8]) {
        self.returned_bytes_at(call, None, data);
    }

    /// Like [`Sock::returned_bytes`]; `continues` as in [`Side::record_at`].
    fn returned_bytes_at(&self, call: String, continues: Option<u32>, data: &[u8]) {
        let literal = pyrepr::bytes_preview(data, PREVIEW_BYTES);
        let n = self.recorder().figure(data.len());
        let result = phrases::bytes_with_length(&literal, &n);
        self.record_at(call, continues, Outcome::Returned(result));
        self.side.facts(|f| {
            f.bytes = Some(ByteFacts::new(Count::shown(&n), Some(literal.clone())));
            f.value = Some(literal);
        });
    }

    /// `sendto(data, addr)`: one datagram.
    pub fn sendto(&self, data: &[u8], addr: &Addr) -> io::Result<usize> {
        self.side.begin();
        let call = self.call(format_args!(
            "sendto({}, {})",
            pyrepr::bytes_preview(data, PREVIEW_BYTES),
            self.show_addr(addr)
        ));
        let target = addr.to_sockaddr()?;
        match self.socket.send_to(data, &target) {
            Ok(n) => {
                self.refresh_addrs(PortRole::Ephemeral, true);
                let datagram_to = self.datagram_sent(addr);
                self.returned(call, Text::same(n.to_string()));
                let peer = self.port_name(addr);
                self.side.facts(|f| {
                    f.bytes = Some(ByteFacts::new(Count::Number(n as u64), None));
                    f.peer = peer;
                    if let Some(socket) = &mut f.socket {
                        socket.datagram_to = datagram_to.map(|id| id as u32);
                    }
                });
                Ok(n)
            }
            Err(err) => Err(self.raise(call, err)),
        }
    }

    /// Counts what a datagram sent to `to` sets off, so the receiving end knows what is due:
    /// a socket of this lab that receives at `to` has one more datagram on its way. Where a
    /// socket of this lab was bound and is closed now, the kernel answers with an ICMP "port
    /// unreachable", which a connected sender hears as an error on its next call.
    ///
    /// Returns the socket of this lab the datagram is queued for, if any.
    fn datagram_sent(&self, to: &Addr) -> Option<SockId> {
        let sockets = self.registry().all();
        let receives = |r: &SockRecord| {
            r.proto == Proto::Udp && r.local.as_ref().is_some_and(|l| receives_at(l, to))
        };
        let dest = sockets.iter().position(|r| r.is_open() && receives(r));
        if let Some(dest) = dest {
            self.registry().update(dest, |r| r.datagrams_expected += 1);
        } else if sockets.iter().any(receives) && sockets[self.id].peer.is_some() {
            self.registry().update(self.id, |r| r.icmp_error_due = true);
        }
        dest
    }

    /// `data, addr = var.recvfrom(bufsize)`: one datagram and who sent it. A datagram longer
    /// than `bufsize` is cut; the result says how long it really was.
    pub fn recvfrom(&self, bufsize: usize) -> io::Result<(Vec<u8>, Addr)> {
        self.side.begin();
        let call = format!(
            "data, addr = {}",
            self.call(format_args!("recvfrom({bufsize})"))
        );
        let mut buf = self.recv_buffer(&call, bufsize)?;
        if let Wait::Blocked(why) = self.wait_readable(bufsize)? {
            return Err(self.blocked_waiting(call, why));
        }
        match sys::recv_from_append(self.borrowed_fd(), &mut buf, RecvFlags::TRUNC) {
            Ok((full_len, from)) => {
                let n = full_len.min(bufsize);
                buf.shrink_to_fit();
                self.registry()
                    .update(self.id, |r| r.datagrams_received += 1);
                let from = from.map_or(Addr::Unnamed, Addr::Inet);
                if let Some(port) = from.port() {
                    // A sender outside this lab (peer mode) has no name yet: it gets one now.
                    self.registry().name_peer_port(port);
                }
                let literal = pyrepr::bytes_preview(&buf, PREVIEW_BYTES);
                let pair = format!("({literal}, {})", self.show_addr(&from));
                self.returned(call, phrases::datagram_received(&pair, n, full_len));
                let peer = self.port_name(&from);
                self.side.facts(|f| {
                    let mut bytes = ByteFacts::new(Count::Number(n as u64), Some(literal));
                    bytes.of = (full_len > n).then_some(full_len as u64);
                    f.bytes = Some(bytes);
                    f.value = Some(pair);
                    f.peer = peer;
                });
                Ok((buf, from))
            }
            Err(err) => Err(self.raise(call, err)),
        }
    }

    /// `shutdown(how)`: SHUT_WR ends this side's sending (the kernel sends FIN) while the
    /// connection stays open for the peer's data; SHUT_RD ends reading; SHUT_RDWR both.
    /// Unlike close(), the socket stays open.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.side.begin();
        let name = match how {
            Shutdown::Read => "SHUT_RD",
            Shutdown::Write => "SHUT_WR",
            Shutdown::Both => "SHUT_RDWR",
        };
        let call = self.call(format_args!("shutdown({name})"));
        let result = self.socket.shutdown(how);
        if result.is_ok() && how != Shutdown::Read {
            self.registry().update(self.id, |r| r.fin_sent = true);
        }
        self.finish(call, result)
    }

    /// `close()`. With SO_LINGER (1, 0) set, the kernel answers with RST instead of FIN.
    pub fn close(self) {
        let call = self.call("close()");
        self.close_as(call);
    }

    /// Closes the socket, recorded as `call`: a call of the program that closes it inside
    /// (`server.server_close()` closes `server.socket`).
    pub(crate) fn close_as(self, call: String) {
        self.side.begin();
        let linger_zero = self.socket.linger().ok().flatten() == Some(Duration::ZERO);
        self.registry().update(self.id, |record| {
            if linger_zero {
                record.reset_sent = true;
            } else {
                record.fin_sent = true;
            }
        });
        let (side, id, registry) = (self.side.clone(), self.id, self.registry().clone());
        drop(self.socket);
        side.record(call, Outcome::Returned(Text::same("")));
        let facts = registry.socket_facts(id);
        side.facts(|f| f.socket = Some(facts));
    }
}
