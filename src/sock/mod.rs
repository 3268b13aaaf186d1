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
use std::os::fd::{AsRawFd, RawFd};
use std::path::Path;
use std::rc::Rc;
use std::time::Duration;

use socket2::{Domain, Socket, Type};

use crate::event::{Kind, Outcome, Text};
use crate::names::PortRole;
use crate::pyrepr;
use crate::sys;
use crate::trace::Trace;

mod addr;
mod framed;
mod pyint;
mod sendall;
mod settle;

use addr::receives_at;
pub use addr::{show_addr, Addr, Proto};
pub use sendall::SendAll;

/// Bounded waits, declared here once.
pub mod wait {
    use std::time::Duration;

    /// How long a call that would block in Python is watched before netlab records it as
    /// blocked and moves on. The course program would wait forever at that point.
    pub const BLOCKED: Duration = Duration::from_millis(200);
    /// The longest netlab waits for something it knows is on its way (data a peer in this lab
    /// already sent, a handshake with a listener that has room). On loopback it takes
    /// microseconds; the bound only keeps a broken kernel from hanging a lab.
    pub const EXPECTED: Duration = Duration::from_secs(2);
    /// How long a call waits for a peer outside this process (a student's program).
    pub const EXTERNAL: Duration = Duration::from_secs(30);
}

/// Longest bytes literal shown whole in a trace line; longer data shows head ... tail.
pub const PREVIEW_BYTES: usize = 64;

/// What the engine knows about one socket of this lab, to find in-process peers and to wait
/// for what they sent.
#[derive(Debug)]
pub(crate) struct SockRecord {
    pub(crate) proto: Proto,
    pub(crate) fd: Option<RawFd>,
    pub(crate) local: Option<Addr>,
    pub(crate) peer: Option<Addr>,
    pub(crate) listening: bool,
    sent: u64,
    received: u64,
    fin_sent: bool,
    reset_sent: bool,
    datagrams_expected: u64,
    datagrams_received: u64,
}

/// A program in the lab (`server`, `client` ...). Sockets it makes record calls as its own.
#[derive(Clone)]
pub struct Side {
    trace: Trace,
    name: Rc<str>,
}

impl Side {
    pub(crate) fn new(trace: Trace, name: &str) -> Side {
        Side {
            trace,
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
                Ok(Sock::adopt(self.clone(), var, proto, socket, false))
            }
            Err(err) => Err(self.raise(call, err)),
        }
    }

    /// The trace this side records into.
    pub(crate) fn trace(&self) -> &Trace {
        &self.trace
    }

    pub(crate) fn record(&self, call: String, outcome: Outcome) {
        self.trace
            .emit(&self.name, Kind::Call, Text::same(call), outcome);
    }

    /// Records a failed call as the exception Python raises, and hands the error back.
    pub(crate) fn raise(&self, call: String, err: io::Error) -> io::Error {
        match crate::errno::of(&err) {
            Some(errno) => self.record(call, Outcome::Raised(errno)),
            None => self.record(call, Outcome::Returned(Text::same(format!("error: {err}")))),
        }
        err
    }
}

/// A lab socket. Dropping it closes the fd silently; `close()` records the call.
pub struct Sock {
    side: Side,
    var: String,
    proto: Proto,
    socket: Socket,
    id: usize,
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
    fn adopt(side: Side, var: &str, proto: Proto, socket: Socket, listening: bool) -> Sock {
        let id = {
            let mut state = side.trace.state();
            state.sockets.push(SockRecord {
                proto,
                fd: Some(socket.as_raw_fd()),
                local: None,
                peer: None,
                listening,
                sent: 0,
                received: 0,
                fin_sent: false,
                reset_sent: false,
                datagrams_expected: 0,
                datagrams_received: 0,
            });
            state.sockets.len() - 1
        };
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

    pub fn trace(&self) -> &Trace {
        &self.side.trace
    }

    pub fn proto(&self) -> Proto {
        self.proto
    }

    pub fn fd(&self) -> RawFd {
        self.socket.as_raw_fd()
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
        show_addr(self.trace(), addr)
    }

    /// Reads the kernel's view of our addresses into the record; names a new local port.
    ///
    /// `chosen_by_kernel`: the kernel has just picked this socket's port (bind to port 0, or
    /// the implicit bind of connect/sendto). A number it picks may be one an earlier, closed
    /// socket of this lab used: the new endpoint then gets a new name, so names never depend on
    /// which numbers the kernel happens to reuse. A port the lab asked for by number (a server
    /// restarted on its old port) keeps its name.
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
        let mut state = self.trace().state();
        let before = state.sockets[self.id].local.as_ref().and_then(Addr::port);
        if let Some(port) = local.as_ref().and_then(Addr::port) {
            if chosen_by_kernel && port != 0 && before != Some(port) {
                state.names.rename_port(port, role);
            } else {
                state.names.name_port(port, role);
            }
        }
        if let Some(port) = peer.as_ref().and_then(Addr::port) {
            state.names.name_port(port, PortRole::Ephemeral);
        }
        let record = &mut state.sockets[self.id];
        record.local = local;
        record.peer = peer;
    }

    fn call(&self, text: impl std::fmt::Display) -> String {
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
        let ms = wait::BLOCKED.as_millis();
        Text::new(
            format!("blocks (still waiting after {ms} ms; netlab stops watching here)"),
            format!("阻塞（等了 {ms} 毫秒仍在等；netlab 在这里停止等待）"),
        )
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
            (Some(0), Some(port)) => {
                let name = self.trace().state().names.port(port);
                Text::new(
                    format!("None (the kernel chose port {name})"),
                    format!("None（内核选了端口 {name}）"),
                )
            }
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
            self.trace().state().sockets[self.id].listening = true;
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
            if !self.wait_ready(sys::POLLIN, limit)? {
                return Err(self.blocked(call, Self::blocked_note()));
            }
        }
        match self.socket.accept() {
            Ok((socket, peer)) => {
                socket.set_nonblocking(true)?;
                let peer = Addr::from_sockaddr(&peer);
                let conn = Sock::adopt(self.side.clone(), conn_var, self.proto, socket, false);
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
                Err(self.blocked(
                    call,
                    Text::new(
                        format!("blocks: handshake not finished after {ms} ms; netlab stops watching here"),
                        format!("阻塞：{ms} 毫秒后握手仍未完成；netlab 在这里停止等待"),
                    ),
                ))
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
            Some(port) => {
                let name = self.trace().state().names.port(port);
                Text::new(
                    format!("None (the kernel gave this end port {name})"),
                    format!("None（内核给这一端分配了端口 {name}）"),
                )
            }
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
        if !self.wait_ready(sys::POLLOUT, limit)? {
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
        let state = self.trace().state();
        let record = state
            .sockets
            .iter()
            .find(|r| r.listening && r.fd.is_some() && r.local.as_ref() == Some(addr))?;
        let info = sys::tcp_info(record.fd?).ok()?;
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

    fn send_inner(&self, call: String, data: &[u8], all: bool) -> io::Result<usize> {
        let mut sent = 0;
        loop {
            match self.socket.send(&data[sent..]) {
                Ok(n) => {
                    sent += n;
                    self.trace().state().sockets[self.id].sent += n as u64;
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
                    if !self.wait_ready(sys::POLLOUT, wait::BLOCKED)? {
                        let total = data.len();
                        let sent = self.trace().figure(sent);
                        let text = Text::new(
                            format!("blocks: the kernel took {sent} of {total} bytes; the send buffer is full and the peer is not reading"),
                            format!("阻塞：内核只收下了 {total} 字节中的 {sent} 字节；发送缓冲区已满，对方没有在读"),
                        );
                        return Err(self.blocked(call, text));
                    }
                }
                Err(err) => return Err(self.side.raise(call, err)),
            }
        }
        let shown = self.trace().figure(sent);
        let result = if all {
            Text::new(
                format!("None ({shown} bytes sent)"),
                format!("None（已发送 {shown} 字节）"),
            )
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

    fn recv_as(&self, call: String, bufsize: usize) -> io::Result<Vec<u8>> {
        let mut buf = self.recv_buffer(&call, bufsize)?;
        if let Err(err) = self.wait_readable() {
            return Err(if is_blocked(&err) {
                self.blocked(call, Self::blocked_note())
            } else {
                err
            });
        }
        match sys::recv_append(&self.socket, &mut buf, bufsize, 0) {
            Ok(n) => {
                buf.shrink_to_fit();
                let data = buf;
                {
                    let mut state = self.trace().state();
                    let record = &mut state.sockets[self.id];
                    record.received += n as u64;
                    if self.proto == Proto::Udp {
                        // recv() on a UDP socket takes one whole datagram, as recvfrom does.
                        record.datagrams_received += 1;
                    }
                }
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

    /// `b'...' (n bytes)`: what a recv returned; n is a figure [`Trace::named`] can name.
    fn received_text(&self, data: &[u8]) -> Text {
        let shown = pyrepr::bytes_preview(data, PREVIEW_BYTES);
        let n = self.trace().figure(data.len());
        Text::new(
            format!("{shown} ({n} bytes)"),
            format!("{shown}（{n} 字节）"),
        )
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
                let mut state = self.trace().state();
                if let Some(dest) = state.sockets.iter_mut().find(|r| {
                    r.proto == Proto::Udp
                        && r.fd.is_some()
                        && r.local.as_ref().is_some_and(|l| receives_at(l, addr))
                }) {
                    dest.datagrams_expected += 1;
                }
                drop(state);
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
        match sys::recv_from_append(&self.socket, &mut buf, bufsize, libc::MSG_TRUNC) {
            Ok((full_len, from)) => {
                let n = full_len.min(bufsize);
                buf.shrink_to_fit();
                let data = buf;
                self.trace().state().sockets[self.id].datagrams_received += 1;
                let from = Addr::from_sockaddr(&from);
                let pair = format!(
                    "({}, {})",
                    pyrepr::bytes_preview(&data, PREVIEW_BYTES),
                    self.show_addr(&from)
                );
                // The Chinese text uses full-width brackets, as recv()'s result does.
                let mut en = format!("{pair} ({n} bytes");
                let mut zh = format!("{pair}（{n} 字节");
                if full_len > n {
                    en.push_str(&format!("; the datagram had {full_len}, the rest is lost"));
                    zh.push_str(&format!("；数据报原有 {full_len} 字节，其余丢失"));
                }
                en.push(')');
                zh.push('）');
                self.returned(call, Text::new(en, zh));
                Ok((data, from))
            }
            Err(err) => Err(self.side.raise(call, err)),
        }
    }

    /// `close()`. With SO_LINGER (1, 0) set, the kernel answers with RST instead of FIN.
    pub fn close(self) {
        let call = self.call("close()");
        let linger_zero = self.socket.linger().ok().flatten() == Some(Duration::ZERO);
        {
            let mut state = self.trace().state();
            let record = &mut state.sockets[self.id];
            record.fd = None;
            if linger_zero {
                record.reset_sent = true;
            } else {
                record.fin_sent = true;
            }
        }
        let side = self.side.clone();
        drop(self.socket);
        side.record(call, Outcome::Returned(Text::same("")));
    }
}

impl Side {
    /// `os.unlink(path)`: removes a file (an AF_UNIX socket's leftover name, say).
    pub fn unlink(&self, path: &Path) -> io::Result<()> {
        let call = format!(
            "os.unlink({})",
            pyrepr::str_literal(&self.trace.state().names.path(path))
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
