//! Sockets whose calls record themselves in Python notation.
//!
//! Every lab socket is a real kernel socket made step by step with socket2, exactly as a
//! Python program makes it (no SO_REUSEADDR, the backlog the lab asks for). Internally each
//! socket is non-blocking, so a call that would block in Python is *shown* blocking: netlab
//! waits a bounded, declared time (see [`wait`]) and records that it was still blocked.
//!
//! Ordering never depends on timing: before a socket reads, netlab waits until everything an
//! in-process peer already sent (data, FIN, RST) has arrived, reading that from the kernel.

use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::Path;
use std::rc::Rc;
use std::time::Duration;

use rustix::net::RecvFlags;
use socket2::{Domain, Socket, Type};

use crate::event::{Kind, Outcome, Text};
use crate::names::PortRole;
use crate::phrases;
use crate::pyrepr;
use crate::recorder::Recorder;
use crate::sys;

pub mod addr;
mod pyint;
pub(crate) mod registry;
pub mod sendall;
mod settle;
pub mod wait;

use addr::{receives_at, UnixPathTooLong};
pub use addr::{Addr, Proto};
use registry::{Registry, SockId, SockRecord};

/// Longest bytes literal shown whole in a trace line; longer data shows head ... tail.
pub const PREVIEW_BYTES: usize = 64;

/// A program in the lab (`server`, `client` ...). Sockets it makes record calls as its own.
#[derive(Clone)]
pub struct Side {
    recorder: Recorder,
    registry: Registry,
    name: Rc<str>,
}

impl Side {
    pub(crate) fn new(recorder: Recorder, registry: Registry, name: &str) -> Side {
        Side {
            recorder,
            registry,
            name: name.into(),
        }
    }

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
                Ok(Sock::adopt(self.clone(), var, proto, socket))
            }
            Err(err) => Err(self.raise(call, err)),
        }
    }

    /// The lab's sockets and stable names.
    pub(crate) fn registry(&self) -> &Registry {
        &self.registry
    }

    pub(crate) fn record(&self, call: String, outcome: Outcome) {
        self.record_text(Text::same(call), outcome);
    }

    pub(crate) fn record_text(&self, call: Text, outcome: Outcome) {
        self.recorder.emit(&self.name, Kind::Call, call, outcome);
    }

    /// Records a failed call as the exception Python raises, and hands the error back.
    pub(crate) fn raise(&self, call: String, err: io::Error) -> io::Error {
        let outcome = match crate::errno::of(&err) {
            Some(errno) => Outcome::Raised(errno),
            None if is_unix_path_too_long(&err) => {
                Outcome::Returned(Text::same("OSError: AF_UNIX path too long"))
            }
            None => Outcome::Returned(Text::same(format!("error: {err}"))),
        };
        self.record(call, outcome);
        err
    }

    /// `os.unlink(path)`: removes a file (an AF_UNIX socket's leftover name, say).
    pub fn unlink(&self, path: &Path) -> io::Result<()> {
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

/// The error a call returns when it was shown blocking (Python would still be waiting).
pub fn is_blocked(err: &io::Error) -> bool {
    err.kind() == io::ErrorKind::WouldBlock
}

fn blocked_error() -> io::Error {
    io::Error::new(io::ErrorKind::WouldBlock, "the call would block")
}

impl Sock {
    fn adopt(side: Side, var: &str, proto: Proto, socket: Socket) -> Sock {
        let socket = Rc::new(socket);
        let id = side.registry.add(SockRecord::new(proto, &socket));
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

    /// How an address shows in this trace (named ports, named temp dirs).
    pub fn show_addr(&self, addr: &Addr) -> String {
        self.registry().show_addr(addr)
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

    fn returned(&self, call: String, result: Text) {
        self.side.record(call, Outcome::Returned(result));
    }

    /// Records a call that returns None in Python: nothing on success, the exception on error.
    fn finish(&self, call: String, result: io::Result<()>) -> io::Result<()> {
        match result {
            Ok(()) => {
                self.returned(call, Text::same(""));
                Ok(())
            }
            Err(err) => Err(self.side.raise(call, err)),
        }
    }

    fn blocked(&self, call: String, what: Text) -> io::Error {
        self.side.record(call, Outcome::Blocked(what));
        blocked_error()
    }

    fn blocked_note() -> Text {
        phrases::blocks(wait::BLOCKED.as_millis())
    }

    /// `setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)`
    pub fn set_reuseaddr(&self, on: bool) -> io::Result<()> {
        let call = self.call(format_args!(
            "setsockopt(SOL_SOCKET, SO_REUSEADDR, {})",
            i32::from(on)
        ));
        self.finish(call, self.socket.set_reuse_address(on))
    }

    /// `setsockopt(SOL_SOCKET, SO_LINGER, struct.pack('ii', 1, 0))`: close() will then reset
    /// the connection (RST) instead of closing it politely (FIN).
    pub fn set_linger_zero(&self) -> io::Result<()> {
        let call = self.call("setsockopt(SOL_SOCKET, SO_LINGER, struct.pack('ii', 1, 0))");
        self.finish(call, self.socket.set_linger(Some(Duration::ZERO)))
    }

    /// `setsockopt(SOL_SOCKET, SO_SNDBUF, n)` (`send` = true) or `SO_RCVBUF`.
    pub fn set_buffer_size(&self, send: bool, size: usize) -> io::Result<()> {
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
            Err(err) => Err(self.side.raise(call, err)),
        }
    }

    /// `setblocking(flag)`: in non-blocking mode calls raise BlockingIOError instead of waiting.
    pub fn setblocking(&mut self, flag: bool) {
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
        let call = self.call(format_args!("bind({})", self.show_addr(addr)));
        if let Err(err) = addr.to_sockaddr().and_then(|a| self.socket.bind(&a)) {
            return Err(self.side.raise(call, err));
        }
        self.refresh_addrs(PortRole::Bound, addr.port() == Some(0));
        let result = match (addr.port(), self.local_addr()?.port()) {
            (Some(0), Some(port)) => phrases::kernel_chose_port(&self.registry().port(port)),
            _ => Text::same(""),
        };
        self.returned(call, result);
        Ok(())
    }

    /// `listen(backlog)`
    pub fn listen(&self, backlog: i32) -> io::Result<()> {
        let call = self.call(format_args!("listen({backlog})"));
        let result = self.socket.listen(backlog);
        if result.is_ok() {
            self.registry().update(self.id, |r| r.listening = true);
        }
        self.finish(call, result)
    }

    /// `conn, addr = var.accept()`: returns the new connection's socket, named `conn_var`.
    pub fn accept(&self, conn_var: &str) -> io::Result<(Sock, Addr)> {
        let call = format!("{conn_var}, addr = {}", self.call("accept()"));
        if self.blocking {
            let limit = if self.has_unaccepted_peer() {
                wait::EXPECTED
            } else {
                self.idle_wait()
            };
            if !self.wait_ready(sys::Ready::IN, limit)? {
                return Err(self.blocked(call, Self::blocked_note()));
            }
        }
        match self.socket.accept() {
            Ok((socket, peer)) => {
                socket.set_nonblocking(true)?;
                let peer = Addr::from_sockaddr(&peer);
                let conn = Sock::adopt(self.side.clone(), conn_var, self.proto, socket);
                let shown = format!("addr = {}", self.show_addr(&peer));
                self.returned(call, Text::same(shown));
                Ok((conn, peer))
            }
            Err(err) => Err(self.side.raise(call, err)),
        }
    }

    /// `connect(addr)`; raises what Python raises (ConnectionRefusedError ...).
    pub fn connect(&self, addr: &Addr) -> io::Result<()> {
        let call = self.call(format_args!("connect({})", self.show_addr(addr)));
        match self.connect_inner(addr) {
            Ok(()) => {
                let result = self.connected_result();
                self.returned(call, result);
                Ok(())
            }
            Err(err) if is_blocked(&err) => {
                // The kernel bound the local port when it sent the SYN: name it now, so a
                // lab can point at this half-open end (CLIENT_PORT_N) in /proc/net/tcp.
                self.refresh_addrs(PortRole::Ephemeral, true);
                let ms = wait::BLOCKED.as_millis();
                Err(self.blocked(call, phrases::connect_blocks(ms)))
            }
            Err(err) => Err(self.side.raise(call, err)),
        }
    }

    /// `connect_ex(addr)`: returns the errno (0 on success) instead of raising.
    pub fn connect_ex(&self, addr: &Addr) -> io::Result<i32> {
        let call = self.call(format_args!("connect_ex({})", self.show_addr(addr)));
        match self.connect_inner(addr) {
            Ok(()) => {
                self.connected_result();
                self.returned(call, Text::same("0"));
                Ok(0)
            }
            Err(err) => match crate::errno::of(&err) {
                Some(errno) => {
                    let shown = match errno.symbol {
                        Some(symbol) => format!("{} ({symbol})", errno.number),
                        None => errno.number.to_string(),
                    };
                    self.returned(call, Text::same(shown));
                    Ok(errno.number)
                }
                None => Err(self.side.raise(call, err)),
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
        match self.socket.connect(&target) {
            Ok(()) => return Ok(()),
            Err(err) if err.raw_os_error() == Some(libc::EINPROGRESS) => {}
            Err(err) => return Err(err),
        }
        if !self.blocking {
            return Err(io::Error::from_raw_os_error(libc::EINPROGRESS));
        }
        let limit = match self.listener_at(addr) {
            Some(true) => wait::BLOCKED,
            Some(false) | None => wait::EXPECTED,
        };
        if !self.wait_ready(sys::Ready::OUT, limit)? {
            return Err(blocked_error());
        }
        match self.socket.take_error()? {
            Some(err) => Err(err),
            None => Ok(()),
        }
    }

    /// Some(full) when a listener of this lab is at `addr`: whether its accept queue is full
    /// (the kernel then drops our SYN, so the handshake cannot finish soon).
    fn listener_at(&self, addr: &Addr) -> Option<bool> {
        let listener = self
            .registry()
            .all()
            .into_iter()
            .find(|r| r.listening && r.is_open() && r.local.as_ref() == Some(addr))?
            .socket()?;
        let info = sys::tcp_info(listener.as_fd()).ok()?;
        Some(info.accept_queue > info.accept_queue_max)
    }

    /// `send(data)`: returns how many bytes the kernel took.
    pub fn send(&self, data: &[u8]) -> io::Result<usize> {
        let call = self.call(format_args!(
            "send({})",
            pyrepr::bytes_preview(data, PREVIEW_BYTES)
        ));
        self.send_inner(call, data, false)
    }

    /// `sendall(data)`: sends everything or raises.
    pub fn sendall(&self, data: &[u8]) -> io::Result<()> {
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
        let mut sent = 0;
        loop {
            match self.socket.send(&data[sent..]) {
                Ok(n) => {
                    sent += n;
                    self.count_sent(n);
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
                        return Err(self.side.raise(call, err));
                    }
                    if !self.wait_ready(sys::Ready::OUT, wait::BLOCKED)? {
                        let sent = self.recorder().figure(sent);
                        let text = phrases::send_blocks(&sent, data.len());
                        return Err(self.blocked(call, text));
                    }
                }
                Err(err) => return Err(self.side.raise(call, err)),
            }
        }
        let shown = self.recorder().figure(sent);
        let result = if all {
            phrases::sendall_returned(&shown)
        } else {
            Text::same(shown)
        };
        self.returned(call, result);
        Ok(sent)
    }

    /// `data = var.recv(bufsize)`: b'' means the peer closed its side.
    pub fn recv(&self, bufsize: usize) -> io::Result<Vec<u8>> {
        let call = format!("data = {}", self.call(format_args!("recv({bufsize})")));
        self.recv_as(call, bufsize)
    }

    /// Like [`Sock::recv`] with a different left-hand side, e.g. `header = client.recv(4)`.
    pub fn recv_into_var(&self, var: &str, bufsize: usize) -> io::Result<Vec<u8>> {
        let call = format!("{var} = {}", self.call(format_args!("recv({bufsize})")));
        self.recv_as(call, bufsize)
    }

    /// A recv recorded as `call` (the left-hand side and the call as the program writes it).
    pub(crate) fn recv_as(&self, call: String, bufsize: usize) -> io::Result<Vec<u8>> {
        let mut buf = self.recv_buffer(&call, bufsize)?;
        if let Err(err) = self.wait_readable() {
            return Err(if is_blocked(&err) {
                self.blocked(call, Self::blocked_note())
            } else {
                err
            });
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
                let result = self.received_text(&data);
                self.returned(call, result);
                Ok(data)
            }
            Err(err) => Err(self.side.raise(call, err)),
        }
    }

    /// The buffer a recv of `bufsize` reads into, reserved first as CPython makes the result's
    /// bytes object before it reads or waits: a size the allocator refuses raises MemoryError
    /// (recorded on `call`) instead of aborting netlab.
    fn recv_buffer(&self, call: &str, bufsize: usize) -> io::Result<Vec<u8>> {
        crate::memory::reserve(bufsize, "recv's buffer").inspect_err(|_| {
            let exception = crate::event::PyException::new("MemoryError", "");
            self.side
                .record(call.to_string(), Outcome::RaisedPython(exception));
        })
    }

    /// `b'...' (n bytes)`: what a recv returned; n is a figure `Trace::named` can name.
    fn received_text(&self, data: &[u8]) -> Text {
        let shown = pyrepr::bytes_preview(data, PREVIEW_BYTES);
        let n = self.recorder().figure(data.len());
        phrases::bytes_with_length(&shown, &n)
    }

    /// `sendto(data, addr)`: one datagram.
    pub fn sendto(&self, data: &[u8], addr: &Addr) -> io::Result<usize> {
        let call = self.call(format_args!(
            "sendto({}, {})",
            pyrepr::bytes_preview(data, PREVIEW_BYTES),
            self.show_addr(addr)
        ));
        let target = addr.to_sockaddr()?;
        match self.socket.send_to(data, &target) {
            Ok(n) => {
                self.refresh_addrs(PortRole::Ephemeral, true);
                // A socket of this lab that receives at `addr` now has one more datagram due.
                let dest = self.registry().all().iter().position(|r| {
                    r.proto == Proto::Udp
                        && r.is_open()
                        && r.local.as_ref().is_some_and(|l| receives_at(l, addr))
                });
                if let Some(dest) = dest {
                    self.registry().update(dest, |r| r.datagrams_expected += 1);
                }
                self.returned(call, Text::same(n.to_string()));
                Ok(n)
            }
            Err(err) => Err(self.side.raise(call, err)),
        }
    }

    /// `data, addr = var.recvfrom(bufsize)`: one datagram and who sent it. A datagram longer
    /// than `bufsize` is cut; the result says how long it really was.
    pub fn recvfrom(&self, bufsize: usize) -> io::Result<(Vec<u8>, Addr)> {
        let call = format!(
            "data, addr = {}",
            self.call(format_args!("recvfrom({bufsize})"))
        );
        let mut buf = self.recv_buffer(&call, bufsize)?;
        if let Err(err) = self.wait_readable() {
            return Err(if is_blocked(&err) {
                self.blocked(call, Self::blocked_note())
            } else {
                err
            });
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
                let pair = format!(
                    "({}, {})",
                    pyrepr::bytes_preview(&buf, PREVIEW_BYTES),
                    self.show_addr(&from)
                );
                self.returned(call, phrases::datagram_received(&pair, n, full_len));
                Ok((buf, from))
            }
            Err(err) => Err(self.side.raise(call, err)),
        }
    }

    /// `shutdown(SHUT_WR)`: sends FIN ("nothing more from me") and keeps the socket open for
    /// reading, so the program can still see what the peer does after that FIN.
    pub fn shutdown_write(&self) -> io::Result<()> {
        let call = self.call("shutdown(SHUT_WR)");
        let result = self.socket.shutdown(std::net::Shutdown::Write);
        if result.is_ok() {
            self.registry()
                .update(self.id, |record| record.fin_sent = true);
        }
        self.finish(call, result)
    }

    /// `close()`. With SO_LINGER (1, 0) set, the kernel answers with RST instead of FIN.
    pub fn close(self) {
        let call = self.call("close()");
        let linger_zero = self.socket.linger().ok().flatten() == Some(Duration::ZERO);
        self.registry().update(self.id, |record| {
            if linger_zero {
                record.reset_sent = true;
            } else {
                record.fin_sent = true;
            }
        });
        let side = self.side.clone();
        drop(self.socket);
        side.record(call, Outcome::Returned(Text::same("")));
    }
}
