//! What the kernel says about the lab's sockets, as `kernel` lines of the trace: bytes waiting
//! in queues, TCP states, accept queues. Every figure is read in this run, never assumed.

use std::io;
use std::net::SocketAddr;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::event::{Kind, Outcome, Text};
use crate::sock::{show_addr, wait, Addr, Proto, Sock};
use crate::sys;
use crate::trace::Trace;

/// A TCP state as the kernel names it (numbering of include/net/tcp_states.h).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpState {
    Established,
    SynSent,
    SynRecv,
    FinWait1,
    FinWait2,
    TimeWait,
    Close,
    CloseWait,
    LastAck,
    Listen,
    Closing,
    NewSynRecv,
}

impl TcpState {
    pub fn from_kernel(number: u8) -> Option<TcpState> {
        use TcpState::*;
        const ALL: [TcpState; 12] = [
            Established,
            SynSent,
            SynRecv,
            FinWait1,
            FinWait2,
            TimeWait,
            Close,
            CloseWait,
            LastAck,
            Listen,
            Closing,
            NewSynRecv,
        ];
        ALL.get(usize::from(number).checked_sub(1)?).copied()
    }

    /// The name `ss` and /proc/net/tcp readers use: `ESTABLISHED`, `TIME_WAIT` ...
    pub fn name(self) -> &'static str {
        use TcpState::*;
        match self {
            Established => "ESTABLISHED",
            SynSent => "SYN_SENT",
            SynRecv => "SYN_RECV",
            FinWait1 => "FIN_WAIT1",
            FinWait2 => "FIN_WAIT2",
            TimeWait => "TIME_WAIT",
            Close => "CLOSE",
            CloseWait => "CLOSE_WAIT",
            LastAck => "LAST_ACK",
            Listen => "LISTEN",
            Closing => "CLOSING",
            NewSynRecv => "NEW_SYN_RECV",
        }
    }
}

fn from_procfs(state: &procfs::net::TcpState) -> TcpState {
    use procfs::net::TcpState as P;
    match state {
        P::Established => TcpState::Established,
        P::SynSent => TcpState::SynSent,
        P::SynRecv => TcpState::SynRecv,
        P::FinWait1 => TcpState::FinWait1,
        P::FinWait2 => TcpState::FinWait2,
        P::TimeWait => TcpState::TimeWait,
        P::Close => TcpState::Close,
        P::CloseWait => TcpState::CloseWait,
        P::LastAck => TcpState::LastAck,
        P::Listen => TcpState::Listen,
        P::Closing => TcpState::Closing,
        P::NewSynRecv => TcpState::NewSynRecv,
    }
}

/// One connection of the kernel's TCP table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpEntry {
    pub local: Addr,
    pub remote: Addr,
    pub state: TcpState,
}

/// Where a look-up in the kernel's TCP table was answered from. The trace line names it, so a
/// student can check the answer by hand: `ss -tan` reads sock_diag too, and /proc/net/tcp is
/// the same table as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpTableSource {
    SockDiag,
    ProcNetTcp,
}

impl TcpTableSource {
    /// How a trace line names the source, in English and Chinese.
    fn label(self) -> (&'static str, &'static str) {
        match self {
            TcpTableSource::SockDiag => ("sock_diag (as ss -tan)", "sock_diag（与 ss -tan 同源）"),
            TcpTableSource::ProcNetTcp => ("/proc/net/tcp", "/proc/net/tcp"),
        }
    }
}

/// The kernel's TCP connections, in every state (TIME_WAIT included), whose local port is
/// `local`'s and whose remote port is `remote`'s (a lab's own port pair), and where the answer
/// came from. Asks netlink sock_diag for that pair only (see [`crate::sockdiag`]), so the
/// time does not grow with the host's other connections.
pub fn tcp_table(local: &Addr, remote: &Addr) -> io::Result<(Vec<TcpEntry>, TcpTableSource)> {
    let (Addr::Inet(local), Addr::Inet(remote)) = (local, remote) else {
        return Err(io::Error::other("the TCP table holds only IP addresses"));
    };
    match crate::sockdiag::tcp_sockets(local.ip(), local.port(), remote.port()) {
        Ok(sockets) => {
            let entries = sockets
                .into_iter()
                .map(|s| {
                    let state = TcpState::from_kernel(s.state).ok_or_else(|| {
                        io::Error::other(format!("sock_diag: unknown TCP state {}", s.state))
                    })?;
                    Ok(TcpEntry {
                        local: Addr::Inet(s.local),
                        remote: Addr::Inet(s.remote),
                        state,
                    })
                })
                .collect::<io::Result<_>>()?;
            Ok((entries, TcpTableSource::SockDiag))
        }
        // Netlink can be refused where /proc still works: a sandbox without NETLINK_SOCK_DIAG
        // (gVisor), a seccomp filter that forbids AF_NETLINK sockets, a kernel whose tcp_diag
        // module cannot be loaded (ENOENT). The same table as text then answers, slower on a
        // busy host, and the trace line says where the answer came from.
        Err(_) => Ok((proc_net_tcp(*local, *remote)?, TcpTableSource::ProcNetTcp)),
    }
}

/// The connections between the two ports as /proc/net/tcp (or tcp6) lists them.
fn proc_net_tcp(local: SocketAddr, remote: SocketAddr) -> io::Result<Vec<TcpEntry>> {
    let table = if local.is_ipv4() {
        procfs::net::tcp()
    } else {
        procfs::net::tcp6()
    };
    let entries = table.map_err(|e| io::Error::other(format!("/proc/net/tcp: {e}")))?;
    Ok(entries
        .into_iter()
        .filter(|e| {
            e.local_address.port() == local.port() && e.remote_address.port() == remote.port()
        })
        .map(|e| TcpEntry {
            local: Addr::Inet(e.local_address),
            remote: Addr::Inet(e.remote_address),
            state: from_procfs(&e.state),
        })
        .collect())
}

/// The kernel as a side of the trace.
pub struct Kernel {
    trace: Trace,
}

impl Kernel {
    pub(crate) fn new(trace: Trace) -> Kernel {
        Kernel { trace }
    }

    fn record(&self, what: Text, result: Text) {
        self.trace
            .emit("kernel", Kind::Kernel, what, Outcome::Returned(result));
    }

    /// `server conn: receive queue (FIONREAD)`, in the trace's language.
    fn about(sock: &Sock, en: &str, zh: &str) -> Text {
        let who = format!("{} {}", sock.side().name(), sock.var());
        Text::new(format!("{who}: {en}"), format!("{who}：{zh}"))
    }

    /// Bytes waiting in `sock`'s receive queue (`FIONREAD`), after what in-process peers sent
    /// has arrived. For UDP the kernel tells the size of the next datagram only (0 also when
    /// that datagram is empty or nothing waits), and the line says so.
    pub fn recv_queue(&self, sock: &Sock) -> io::Result<usize> {
        sock.settle();
        let n = sys::recv_queue(sock.fd())?;
        let what = Self::about(sock, "receive queue (FIONREAD)", "接收队列（FIONREAD）");
        let shown = self.trace.figure(n);
        let result = if sock.proto() == Proto::Udp {
            Text::new(
                format!("{shown} bytes in the next datagram"),
                format!("下一个数据报有 {shown} 字节"),
            )
        } else {
            Text::new(
                format!("{shown} bytes waiting"),
                format!("{shown} 字节待读"),
            )
        };
        self.record(what, result);
        Ok(n)
    }

    /// Bytes in `sock`'s send queue that the peer has not acknowledged (`SIOCOUTQ`). When the
    /// peer is in this lab, first waits (bounded) until it has acknowledged every byte that
    /// reached it, so the figure does not depend on when its delayed ACK goes out.
    pub fn send_queue(&self, sock: &Sock) -> io::Result<usize> {
        sock.settle_acks();
        let n = sys::send_queue(sock.fd())?;
        let what = Self::about(sock, "send queue (SIOCOUTQ)", "发送队列（SIOCOUTQ）");
        let shown = self.trace.figure(n);
        self.record(
            what,
            Text::new(
                format!("{shown} bytes not yet acknowledged"),
                format!("{shown} 字节尚未被确认"),
            ),
        );
        Ok(n)
    }

    /// Bytes in `sock`'s send queue that were not even transmitted yet (`SIOCOUTQNSD`): the
    /// peer's receive window has no room for them. Settles like [`Kernel::send_queue`].
    pub fn unsent_queue(&self, sock: &Sock) -> io::Result<usize> {
        sock.settle_acks();
        let n = sys::unsent(sock.fd())?;
        let what = Self::about(
            sock,
            "send queue, not yet transmitted (SIOCOUTQNSD)",
            "发送队列中尚未发出的部分（SIOCOUTQNSD）",
        );
        let shown = self.trace.figure(n);
        self.record(
            what,
            Text::new(
                format!("{shown} bytes still waiting to be transmitted"),
                format!("{shown} 字节还在等待发出"),
            ),
        );
        Ok(n)
    }

    /// `sock`'s TCP state (`TCP_INFO`), after in-flight FIN/RST from in-process peers arrived.
    pub fn tcp_state(&self, sock: &Sock) -> io::Result<TcpState> {
        sock.settle();
        let info = sys::tcp_info(sock.fd())?;
        let state = TcpState::from_kernel(info.state)
            .ok_or_else(|| io::Error::other(format!("unknown TCP state {}", info.state)))?;
        self.record(
            Self::about(sock, "TCP state", "TCP 状态"),
            Text::same(state.name()),
        );
        Ok(state)
    }

    /// A listening socket's accept queue: (connections waiting, limit).
    pub fn accept_queue(&self, listener: &Sock) -> io::Result<(u32, u32)> {
        let info = sys::tcp_info(listener.fd())?;
        let (waiting, max) = (info.accept_queue, info.accept_queue_max);
        self.record(
            Self::about(listener, "accept queue", "accept 队列"),
            Text::new(
                format!(
                    "{waiting} {} waiting to be accepted (limit {max})",
                    if waiting == 1 {
                        "connection"
                    } else {
                        "connections"
                    }
                ),
                format!("{waiting} 个连接等待 accept（上限 {max}）"),
            ),
        );
        Ok((waiting, max))
    }

    /// The state of the connection `local` -> `remote` in the kernel's TCP table (see
    /// [`tcp_table`]), which also lists connections that no fd holds any more (TIME_WAIT
    /// after close). None: no such entry.
    ///
    /// `settles_to` is the state the lab's last step is driving the connection to (a FIN on
    /// its way, say): the probe waits, bounded, until the kernel shows it, then records what
    /// the kernel shows, whatever that is.
    pub fn tcp_state_between(
        &self,
        local: &Addr,
        remote: &Addr,
        settles_to: Option<TcpState>,
    ) -> io::Result<Option<TcpState>> {
        self.between(local, remote, |found| {
            settles_to.is_none() || found == settles_to
        })
    }

    /// Like [`Kernel::tcp_state_between`] when the lab's last step is driving the connection
    /// out of the table (a last ACK on its way to a LAST_ACK end, say): waits, bounded, until
    /// the kernel's TCP table no longer lists `local` -> `remote`, then records what it shows.
    pub fn tcp_connection_gone(&self, local: &Addr, remote: &Addr) -> io::Result<Option<TcpState>> {
        self.between(local, remote, |found| found.is_none())
    }

    fn between(
        &self,
        local: &Addr,
        remote: &Addr,
        settled: impl Fn(Option<TcpState>) -> bool,
    ) -> io::Result<Option<TcpState>> {
        let read = || -> io::Result<(Option<TcpState>, TcpTableSource)> {
            let (entries, source) = tcp_table(local, remote)?;
            let found = entries
                .into_iter()
                .find(|e| &e.local == local && &e.remote == remote)
                .map(|e| e.state);
            Ok((found, source))
        };
        let deadline = Instant::now() + wait::EXPECTED;
        let (mut found, mut source) = read()?;
        while !settled(found) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
            (found, source) = read()?;
        }
        let (from, to) = (
            show_addr(&self.trace, local),
            show_addr(&self.trace, remote),
        );
        let (en, zh) = source.label();
        let what = Text::new(
            format!("{en}: connection {from} to {to}"),
            format!("{zh}：连接 {from} 到 {to}"),
        );
        let result = match found {
            Some(state) => Text::same(state.name()),
            None => Text::new("no such connection", "没有这条连接"),
        };
        self.record(what, result);
        Ok(found)
    }

    /// A numeric sysctl such as `net.core.somaxconn`, read from /proc/sys. Its value differs
    /// between machines, so it shows under `stable_name` unless `--raw`; a lab that relies on
    /// it states the relation it needs with `Trace::expect`.
    pub fn sysctl(&self, name: &str, stable_name: &str) -> io::Result<u64> {
        let path = format!("/proc/sys/{}", name.replace('.', "/"));
        let text = std::fs::read_to_string(&path)?;
        let value = text
            .trim()
            .parse::<u64>()
            .map_err(|_| io::Error::other(format!("{path} is not a number: {}", text.trim())))?;
        self.record(
            Text::same(format!("{name} ({path})")),
            Text::same(self.trace.named_value(stable_name, value)),
        );
        Ok(value)
    }

    /// Like [`Kernel::sysctl`], for a setting that older kernels lack: where /proc/sys has no
    /// such file, the line says so (still under `stable_name` unless `--raw`, so the default
    /// output stays the same) and the value is `absent`, what such a kernel does.
    pub fn sysctl_or(&self, name: &str, stable_name: &str, absent: u64) -> io::Result<u64> {
        let path = format!("/proc/sys/{}", name.replace('.', "/"));
        if std::path::Path::new(&path).exists() {
            return self.sysctl(name, stable_name);
        }
        self.record(
            Text::same(format!("{name} ({path})")),
            Text::new(
                self.trace.named_value(
                    stable_name,
                    format!(
                        "no such file: this kernel has no such setting and works as with {absent}"
                    ),
                ),
                self.trace.named_value(
                    stable_name,
                    format!("没有这个文件：这个内核没有这项设置，效果等同于 {absent}"),
                ),
            ),
        );
        Ok(absent)
    }

    /// This machine's RAM as the kernel counts it (`MemTotal` in /proc/meminfo), in KiB.
    /// It differs from machine to machine, so it shows as `MEM_TOTAL` unless `--raw`; a lab
    /// states what it relies on as a relation it checks.
    pub fn mem_total(&self) -> io::Result<u64> {
        let meminfo = std::fs::read_to_string("/proc/meminfo")?;
        let kib = meminfo
            .lines()
            .find_map(|line| line.strip_prefix("MemTotal:"))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .ok_or_else(|| io::Error::other("/proc/meminfo has no MemTotal line"))?;
        let shown = self.trace.named_value("MEM_TOTAL", kib);
        self.record(
            Text::new("/proc/meminfo: MemTotal", "/proc/meminfo：MemTotal"),
            Text::same(format!("{shown} kB")),
        );
        Ok(kib)
    }

    /// How many bytes of data `sock` has put on the wire so far, retransmissions included
    /// (`TCP_INFO` tcpi_bytes_sent, Linux 4.19+). A send() that put nothing on the wire
    /// leaves it unchanged.
    pub fn bytes_sent(&self, sock: &Sock) -> io::Result<u64> {
        let info = sys::tcp_info(sock.fd())?;
        let n = info.bytes_sent.ok_or_else(|| {
            io::Error::other("this kernel's TCP_INFO has no tcpi_bytes_sent (Linux 4.19+)")
        })?;
        self.record(
            Self::about(
                sock,
                "data bytes sent on the wire so far (TCP_INFO tcpi_bytes_sent)",
                "迄今实际发到线路上的数据字节（TCP_INFO tcpi_bytes_sent）",
            ),
            Text::new(format!("{n} bytes"), format!("{n} 字节")),
        );
        Ok(n)
    }

    /// A kernel fact the lab measured itself (a sysctl value, a computed figure), shown as a
    /// kernel line. `what` names where it was read from.
    pub fn fact(&self, what: Text, result: Text) {
        self.record(what, result);
    }

    /// What the filesystem holds at `path` (`os.stat(path)` without following a symlink): an
    /// AF_UNIX socket's name is a file of its own type, S_IFSOCK, that outlives the socket.
    /// Returns the file type, or None when there is no such file.
    pub fn file_type(&self, path: &Path) -> io::Result<Option<std::fs::FileType>> {
        let shown = crate::pyrepr::str_literal(&self.trace.state().names.path(path));
        let what = Text::new(format!("file {shown}"), format!("文件 {shown}"));
        let (found, result) = match std::fs::symlink_metadata(path) {
            Ok(meta) => {
                let ty = meta.file_type();
                let (en, zh) = if ty.is_socket() {
                    ("a socket file (S_IFSOCK)", "套接字文件（S_IFSOCK）")
                } else if ty.is_file() {
                    ("a regular file (S_IFREG)", "普通文件（S_IFREG）")
                } else if ty.is_dir() {
                    ("a directory (S_IFDIR)", "目录（S_IFDIR）")
                } else {
                    ("another kind of file", "其他类型的文件")
                };
                (Some(ty), Text::new(en, zh))
            }
            Err(err) if err.kind() == io::ErrorKind::NotFound => (
                None,
                Text::new("no such file (ENOENT)", "没有这个文件（ENOENT）"),
            ),
            Err(err) => return Err(err),
        };
        self.record(what, result);
        Ok(found)
    }
}
