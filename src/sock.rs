//! Sockets whose calls record themselves in Python notation.
//!
//! Every lab socket is a real kernel socket made step by step with socket2, exactly as a
//! Python program makes it (no SO_REUSEADDR, the backlog the lab asks for). Internally each
//! socket is non-blocking, so a call that would block in Python is *shown* blocking: netlab
//! waits a bounded, declared time (see [`wait`]) and records that it was still blocked.
//!
//! Ordering never depends on timing: before a socket reads, netlab waits until everything an
//! in-process peer already sent (data, FIN, RST) has arrived, reading that from the kernel.

use std::io::{self, Read};
use std::mem::MaybeUninit;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::os::fd::{AsRawFd, RawFd};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};

use socket2::{Domain, SockAddr, Socket, Type};

use crate::event::{Kind, Outcome, Text};
use crate::names::PortRole;
use crate::pyrepr;
use crate::sys;
use crate::trace::Trace;

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

/// What kind of socket, as in `socket(family, type)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    Tcp,
    Udp,
    UnixStream,
}

impl Proto {
    fn python(self) -> &'static str {
        match self {
            Proto::Tcp => "socket(AF_INET, SOCK_STREAM)",
            Proto::Udp => "socket(AF_INET, SOCK_DGRAM)",
            Proto::UnixStream => "socket(AF_UNIX, SOCK_STREAM)",
        }
    }
}

/// A socket address: `('127.0.0.1', port)` or a filesystem path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Addr {
    Inet(SocketAddr),
    Unix(PathBuf),
    /// An AF_UNIX socket with no name (a client that never bound).
    Unnamed,
}

impl Addr {
    /// `('127.0.0.1', port)`: labs bind port 0 so the kernel picks a free one.
    pub fn loopback(port: u16) -> Addr {
        Addr::Inet(SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port)))
    }

    pub fn path(path: impl AsRef<Path>) -> Addr {
        Addr::Unix(path.as_ref().to_path_buf())
    }

    pub fn port(&self) -> Option<u16> {
        match self {
            Addr::Inet(addr) => Some(addr.port()),
            _ => None,
        }
    }

    fn to_sockaddr(&self) -> io::Result<SockAddr> {
        match self {
            Addr::Inet(addr) => Ok(SockAddr::from(*addr)),
            Addr::Unix(path) => SockAddr::unix(path),
            Addr::Unnamed => Err(io::Error::from_raw_os_error(libc::EINVAL)),
        }
    }

    fn from_sockaddr(addr: &SockAddr) -> Addr {
        if let Some(inet) = addr.as_socket() {
            Addr::Inet(inet)
        } else if let Some(path) = addr.as_pathname() {
            Addr::Unix(path.to_path_buf())
        } else {
            Addr::Unnamed
        }
    }
}

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

    /// The socket2 socket, for the rare option the vocabulary does not cover yet. Calls made
    /// on it are not recorded: prefer adding a recorded method here.
    pub fn raw_socket(&self) -> &Socket {
        &self.socket
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
                    let shown = format!("{} ({})", errno.number, errno.symbol);
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
        if let Err(err) = self.wait_readable() {
            return Err(if is_blocked(&err) {
                self.blocked(call, Self::blocked_note())
            } else {
                err
            });
        }
        let mut buf = vec![0u8; bufsize];
        match (&self.socket).read(&mut buf) {
            Ok(n) => {
                buf.truncate(n);
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

    /// `b'...' (n bytes)`: what a recv returned; n is a figure [`Trace::named`] can name.
    fn received_text(&self, data: &[u8]) -> Text {
        let shown = pyrepr::bytes_preview(data, PREVIEW_BYTES);
        let n = self.trace().figure(data.len());
        Text::new(
            format!("{shown} ({n} bytes)"),
            format!("{shown}（{n} 字节）"),
        )
    }

    /// `sendall(data)` on a blocking socket whose peer may not be reading yet, as a call that
    /// can stay in progress while the lab lets the peer act (the lab is one orchestrator, so
    /// the peer cannot read while this call waits).
    ///
    /// Like [`Sock::sendall`], it hands the kernel bytes whenever the send buffer has room,
    /// and watches a full buffer for [`wait::BLOCKED`]. If everything went in, it records the
    /// usual `None (n bytes sent)` line and returns a finished [`SendAll`]. Otherwise it
    /// records one line saying the call blocked and how many bytes the kernel took so far,
    /// and returns the call still in progress: the peer's [`Sock::recv_waitall`] keeps it
    /// going while it reads (as the blocked Python call would go on), and
    /// [`SendAll::finish`] records the line where it returns. The figure that
    /// [`crate::trace::Trace::named`] names is the bytes taken so far.
    pub fn sendall_start<'a>(&'a self, data: &'a [u8]) -> io::Result<SendAll<'a>> {
        let call = self.call(format_args!(
            "sendall({})",
            pyrepr::bytes_preview(data, PREVIEW_BYTES)
        ));
        let mut sending = SendAll {
            sock: self,
            data,
            taken: 0,
            call,
            blocked_at: None,
        };
        if !self.blocking {
            // Python's sendall on a non-blocking socket raises once the buffer is full.
            self.send_inner(sending.call.clone(), data, true)?;
            sending.taken = data.len();
            return Ok(sending);
        }
        if sending.run(wait::BLOCKED)? {
            let shown = self.trace().figure(data.len());
            self.returned(
                sending.call.clone(),
                Text::new(
                    format!("None ({shown} bytes sent)"),
                    format!("None（已发送 {shown} 字节）"),
                ),
            );
        } else {
            let taken = self.trace().figure(sending.taken);
            let text = Text::new(
                format!("blocks after the kernel took {taken} bytes: the send buffer is full and the peer is not reading"),
                format!("阻塞：内核收下 {taken} 字节后发送缓冲区满了，对方没有在读"),
            );
            self.side
                .record(sending.call.clone(), Outcome::Blocked(text));
            sending.blocked_at = Some(self.trace().last_seq());
        }
        Ok(sending)
    }

    /// `data = var.recv(n, socket.MSG_WAITALL)`: waits until all `n` bytes arrived (or the
    /// peer closed), where a plain recv returns what is there. While it waits, a `sendall`
    /// of this lab that is still in progress ([`Sock::sendall_start`]) goes on, as the
    /// sending program would, blocked in its own call: each time this reader empties its
    /// receive queue, the sender's kernel can transmit more and the sendall hands it more.
    /// The engine reads with plain non-blocking recvs in a loop; the kernel's own
    /// MSG_WAITALL loops the same way. Watched for [`wait::BLOCKED`] without progress.
    pub fn recv_waitall(
        &self,
        n: usize,
        mut meanwhile: Option<&mut SendAll<'_>>,
    ) -> io::Result<Vec<u8>> {
        let call = format!(
            "data = {}",
            self.call(format_args!("recv({n}, socket.MSG_WAITALL)"))
        );
        if !self.blocking {
            // On a non-blocking socket MSG_WAITALL changes nothing: one plain recv.
            return self.recv_as(call, n);
        }
        let mut data = vec![0u8; n];
        let mut got = 0;
        let mut last_progress = Instant::now();
        while got < n {
            let mut progress = match meanwhile.as_deref_mut() {
                Some(sending) => sending.push()?,
                None => false,
            };
            match (&self.socket).read(&mut data[got..]) {
                Ok(0) => break, // the peer closed: MSG_WAITALL returns what it has
                Ok(k) => {
                    got += k;
                    self.trace().state().sockets[self.id].received += k as u64;
                    progress = true;
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                Err(err) => return Err(self.side.raise(call, err)),
            }
            if progress {
                last_progress = Instant::now();
                continue;
            }
            let limit = match self.due() {
                Due::InFlight => wait::EXPECTED,
                _ => wait::BLOCKED,
            };
            if last_progress.elapsed() >= limit {
                let shown = self.trace().figure(got);
                let text = Text::new(
                    format!("blocks: {shown} of {n} bytes arrived; netlab stops watching here"),
                    format!("阻塞：{n} 字节中只到了 {shown} 字节；netlab 在这里停止等待"),
                );
                return Err(self.blocked(call, text));
            }
            self.wait_ready(sys::POLLIN | sys::POLLRDHUP, Duration::from_millis(1))?;
        }
        data.truncate(got);
        let result = self.received_text(&data);
        self.returned(call, result);
        Ok(data)
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
        if let Err(err) = self.wait_readable() {
            return Err(if is_blocked(&err) {
                self.blocked(call, Self::blocked_note())
            } else {
                err
            });
        }
        let mut buf = vec![MaybeUninit::<u8>::uninit(); bufsize.max(1)];
        match self
            .socket
            .recv_from_with_flags(&mut buf[..bufsize], libc::MSG_TRUNC)
        {
            Ok((full_len, from)) => {
                let n = full_len.min(bufsize);
                let data = sys::filled_prefix(&buf[..n]);
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

    /// `shutdown(SHUT_WR)`: sends FIN but keeps reading.
    pub fn shutdown_write(&self) -> io::Result<()> {
        let call = self.call("shutdown(SHUT_WR)");
        let result = self.socket.shutdown(std::net::Shutdown::Write);
        if result.is_ok() {
            self.trace().state().sockets[self.id].fin_sent = true;
        }
        self.finish(call, result)
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

    /// How long to watch a call that nothing is known to be on its way for: short when the
    /// peer is in this lab (nothing is coming), long when it is a student's program.
    fn idle_wait(&self) -> Duration {
        if self.in_process_peer().is_some()
            || self.trace().state().sockets[self.id].listening
            || self.udp_in_lab()
        {
            wait::BLOCKED
        } else {
            wait::EXTERNAL
        }
    }

    fn in_process_peer(&self) -> Option<usize> {
        let state = self.trace().state();
        let me = &state.sockets[self.id];
        let (local, peer) = (me.local.as_ref()?, me.peer.as_ref()?);
        if *peer == Addr::Unnamed || *local == Addr::Unnamed {
            // AF_UNIX client ends have no name: match by the listener path and the pairing
            // order is ambiguous, so only treat a unique candidate as the peer.
            let candidates: Vec<usize> = state
                .sockets
                .iter()
                .enumerate()
                .filter(|(i, r)| {
                    *i != self.id
                        && r.proto == me.proto
                        && !r.listening
                        && r.local.as_ref() == Some(peer)
                        && r.peer.as_ref() == Some(local)
                })
                .map(|(i, _)| i)
                .collect();
            return (candidates.len() == 1).then(|| candidates[0]);
        }
        state.sockets.iter().enumerate().position(|(i, r)| {
            i != self.id
                && !r.listening
                && r.local.as_ref() == Some(peer)
                && r.peer.as_ref() == Some(local)
        })
    }

    /// A UDP socket has no connection to tell who may send to it. When this lab made other UDP
    /// sockets (open or closed by now), the lab's own sockets are its senders and what they sent
    /// is counted (see [`Sock::sendto`]): nothing counted means nothing is coming. A lone UDP
    /// socket talks to a program outside netlab.
    fn udp_in_lab(&self) -> bool {
        if self.proto != Proto::Udp {
            return false;
        }
        let state = self.trace().state();
        state
            .sockets
            .iter()
            .enumerate()
            .any(|(i, r)| i != self.id && r.proto == Proto::Udp)
    }

    /// A listener with a connected in-process client that has not been accepted yet.
    fn has_unaccepted_peer(&self) -> bool {
        let state = self.trace().state();
        let Some(local) = state.sockets[self.id].local.clone() else {
            return false;
        };
        let clients: Vec<&Addr> = state
            .sockets
            .iter()
            .filter(|r| !r.listening && r.peer.as_ref() == Some(&local) && r.fd.is_some())
            .filter_map(|r| r.local.as_ref())
            .collect();
        clients.iter().any(|client| {
            !state
                .sockets
                .iter()
                .any(|r| r.local.as_ref() == Some(&local) && r.peer.as_ref() == Some(client))
        })
    }

    /// Waits until what in-process peers already sent has arrived, then until the socket is
    /// readable: `Ok` to read now, `Err(WouldBlock)` when Python would still be blocked.
    fn wait_readable(&self) -> io::Result<()> {
        let expecting = self.settle();
        if !self.blocking {
            return Ok(()); // the read itself raises BlockingIOError if nothing is there
        }
        let limit = if expecting {
            wait::EXPECTED
        } else {
            self.idle_wait()
        };
        if self.wait_ready(sys::POLLIN | sys::POLLRDHUP, limit)? {
            Ok(())
        } else {
            Err(blocked_error())
        }
    }

    /// For a TCP socket whose peer is in this lab: waits (bounded) until the peer has
    /// acknowledged every byte that was transmitted, i.e. SIOCOUTQ equals SIOCOUTQNSD, so a
    /// send-queue figure does not depend on when the peer's delayed ACK went out.
    pub(crate) fn settle_acks(&self) {
        if self.proto != Proto::Tcp {
            return;
        }
        let Some(peer) = self.in_process_peer() else {
            return;
        };
        if self.trace().state().sockets[peer].fd.is_none() {
            return; // a closed peer may never acknowledge anything again
        }
        let deadline = Instant::now() + wait::EXPECTED;
        while Instant::now() < deadline {
            match (sys::send_queue(self.fd()), sys::unsent(self.fd())) {
                (Ok(queued), Ok(unsent)) if queued > unsent => {
                    std::thread::sleep(Duration::from_millis(1))
                }
                _ => return,
            }
        }
    }

    /// Waits (bounded) until everything in-process peers sent to this socket is in its
    /// receive queue: data, FIN, RST, datagrams. Returns whether anything is due at all.
    pub(crate) fn settle(&self) -> bool {
        let deadline = Instant::now() + wait::EXPECTED;
        loop {
            let due = self.due();
            match due {
                Due::Nothing => return false,
                Due::Arrived => return true,
                Due::InFlight if Instant::now() >= deadline => return true,
                Due::InFlight => std::thread::sleep(Duration::from_millis(1)),
            }
        }
    }

    fn due(&self) -> Due {
        if self.proto == Proto::Udp {
            let state = self.trace().state();
            let me = &state.sockets[self.id];
            if me.datagrams_expected <= me.datagrams_received {
                return Due::Nothing;
            }
            drop(state);
            return match sys::poll(self.fd(), sys::POLLIN, Duration::ZERO) {
                Ok(ev) if ev != 0 => Due::Arrived,
                _ => Due::InFlight,
            };
        }
        let Some(peer_id) = self.in_process_peer() else {
            return Due::Nothing;
        };
        let state = self.trace().state();
        let (me, peer) = (&state.sockets[self.id], &state.sockets[peer_id]);
        let unsent = match (peer.proto, peer.fd) {
            (Proto::Tcp, Some(fd)) => sys::unsent(fd).unwrap_or(0) as u64,
            _ => 0,
        };
        let transmitted = peer.sent.saturating_sub(unsent);
        let queued = sys::recv_queue(self.fd()).unwrap_or(0) as u64;
        let events =
            sys::poll(self.fd(), sys::POLLRDHUP | sys::POLLIN, Duration::ZERO).unwrap_or(0);
        let hung_up = events & (sys::POLLRDHUP | sys::POLLHUP | sys::POLLERR) != 0;
        let errored = events & (sys::POLLERR | sys::POLLHUP) != 0;
        let nothing_due = transmitted <= me.received && !peer.fin_sent && !peer.reset_sent;
        let arrived = if peer.reset_sent {
            errored
        } else {
            me.received + queued >= transmitted && (!peer.fin_sent || hung_up)
        };
        match (nothing_due, arrived) {
            (true, _) => Due::Nothing,
            (false, true) => Due::Arrived,
            (false, false) => Due::InFlight,
        }
    }

    /// Polls for `events` up to `limit`; true when ready (or an error/hang-up is pending,
    /// which the next call will report as Python would).
    fn wait_ready(&self, events: libc::c_short, limit: Duration) -> io::Result<bool> {
        let got = sys::poll(self.fd(), events, limit)?;
        Ok(got != 0)
    }
}

enum Due {
    Nothing,
    InFlight,
    Arrived,
}

/// Whether a socket bound to `local` receives datagrams sent to `dest`: the same address, or
/// the same port on the wildcard address (a client that never bound gets 0.0.0.0 and a port
/// at its first sendto).
fn receives_at(local: &Addr, dest: &Addr) -> bool {
    match (local, dest) {
        (Addr::Inet(l), Addr::Inet(d)) => {
            l.port() == d.port() && (l.ip() == d.ip() || l.ip().is_unspecified())
        }
        _ => local == dest,
    }
}

/// A `sendall()` in progress: started by [`Sock::sendall_start`], it blocked because the send
/// buffer was full and the peer was not reading. The peer's [`Sock::recv_waitall`] keeps it
/// going; [`SendAll::finish`] records where it returns. Dropped without `finish`, it records
/// nothing more (the Python program would still be inside sendall).
pub struct SendAll<'a> {
    sock: &'a Sock,
    data: &'a [u8],
    taken: usize,
    call: String,
    /// The trace line that showed the call blocked; None when it never blocked.
    blocked_at: Option<u32>,
}

impl SendAll<'_> {
    /// Bytes of the data the kernel has taken so far.
    pub fn taken(&self) -> usize {
        self.taken
    }

    pub fn is_done(&self) -> bool {
        self.taken == self.data.len()
    }

    /// Hands the kernel as much as its send buffer takes now, without waiting and without
    /// recording (the Python call is still inside sendall). Returns whether it took anything.
    fn push(&mut self) -> io::Result<bool> {
        let before = self.taken;
        while !self.is_done() {
            match self.sock.socket.send(&self.data[self.taken..]) {
                Ok(n) => {
                    self.taken += n;
                    self.sock.trace().state().sockets[self.sock.id].sent += n as u64;
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
                Err(err) => return Err(self.sock.side.raise(self.call.clone(), err)),
            }
        }
        Ok(self.taken > before)
    }

    /// Pushes whenever the buffer has room until done (true) or until the buffer stayed
    /// full for `limit` (false).
    fn run(&mut self, limit: Duration) -> io::Result<bool> {
        loop {
            self.push()?;
            if self.is_done() {
                return Ok(true);
            }
            if !self.sock.wait_ready(sys::POLLOUT, limit)? {
                return Ok(false);
            }
        }
    }

    /// Lets the call run to its end and records the line where `sendall` returns:
    /// `None (n bytes sent)`, n being a figure [`crate::trace::Trace::named`] can name. If
    /// the buffer stays full for [`wait::BLOCKED`] (the peer still does not read), records
    /// that it is still blocked and returns `Err(WouldBlock)`. A call that never blocked
    /// was recorded by [`Sock::sendall_start`] already and records nothing here.
    pub fn finish(mut self) -> io::Result<usize> {
        let Some(line) = self.blocked_at else {
            return Ok(self.taken);
        };
        let done = self.run(wait::BLOCKED)?;
        let sock = self.sock;
        let call = Text::new(
            format!("{} (continued from line {line})", self.call),
            format!("{}（接第 {line} 行）", self.call),
        );
        let outcome = if done {
            let shown = sock.trace().figure(self.taken);
            Outcome::Returned(Text::new(
                format!("None ({shown} bytes sent)"),
                format!("None（已发送 {shown} 字节）"),
            ))
        } else {
            let shown = sock.trace().figure(self.taken);
            Outcome::Blocked(Text::new(
                format!(
                    "still blocks: the kernel has taken {shown} bytes; the peer is not reading"
                ),
                format!("仍然阻塞：内核一共收下了 {shown} 字节；对方没有在读"),
            ))
        };
        sock.trace()
            .emit(&sock.side.name, Kind::Call, call, outcome);
        if done {
            Ok(self.taken)
        } else {
            Err(blocked_error())
        }
    }
}

/// An address in Python notation with this trace's names.
pub fn show_addr(trace: &Trace, addr: &Addr) -> String {
    let state = trace.state();
    match addr {
        Addr::Inet(inet) => state.names.inet(inet),
        Addr::Unix(path) => pyrepr::str_literal(&state.names.path(path)),
        Addr::Unnamed => "''".to_string(),
    }
}

/// The framing module's read loop reads through the traced `recv`, so every recv it makes
/// shows in the trace exactly as the course's loop would make it: `header = conn.recv(4)`,
/// `json_bytes = conn.recv(N)`, `data = conn.recv(1024)` (`+=` for the calls that add to a
/// piece already begun), and each decoded header as the
/// line the course writes for it (`total_size = struct.unpack('i', header)[0]`).
impl crate::framing::RecvSource for Sock {
    fn recv(&mut self, max: usize) -> io::Result<Vec<u8>> {
        Sock::recv(self, max)
    }

    fn recv_piece(
        &mut self,
        piece: crate::framing::Piece,
        have: usize,
        max: usize,
    ) -> io::Result<Vec<u8>> {
        use crate::framing::Piece;
        let var = match piece {
            Piece::LengthHeader => "header",
            Piece::JsonHeader { .. } => "json_bytes",
            Piece::Payload { .. } => "data",
        };
        let op = if have == 0 { "=" } else { "+=" };
        let call = format!("{var} {op} {}", self.call(format_args!("recv({max})")));
        self.recv_as(call, max)
    }

    fn decoded(&mut self, format: crate::framing::Format, step: &crate::framing::Step) {
        use crate::framing::{Format, Step};
        let (call, result) = match (format, step) {
            (Format::LengthHeader, Step::Length { len }) => (
                format!(
                    "total_size = struct.unpack({}, header)[0]",
                    crate::program::native_int_format()
                ),
                len.to_string(),
            ),
            (Format::JsonHeader, Step::Length { len }) => (
                format!(
                    "json_len = struct.unpack({}, header)[0]",
                    crate::program::native_int_format()
                ),
                len.to_string(),
            ),
            (_, Step::Json(header)) => (
                "header_dic = json.loads(json_bytes)".to_string(),
                crate::program::python_dict(header),
            ),
            _ => return,
        };
        self.side
            .record(call, Outcome::Returned(Text::same(result)));
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
