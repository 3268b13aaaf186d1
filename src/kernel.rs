//! What the kernel says about the lab's sockets, as `kernel` lines of the trace: bytes waiting
//! in queues, TCP states, accept queues. Every figure is read in this run, never assumed.

use std::io;
use std::time::{Duration, Instant};

use crate::event::{Kind, Outcome, Text};
use crate::sock::{show_addr, wait, Addr, Sock};
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

/// One connection as /proc/net/tcp lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpEntry {
    pub local: Addr,
    pub remote: Addr,
    pub state: TcpState,
}

/// The connections in /proc/net/tcp whose local or remote port is `port` (a lab's own port).
pub fn tcp_table(port: u16) -> io::Result<Vec<TcpEntry>> {
    let entries = procfs::net::tcp().map_err(|e| io::Error::other(e.to_string()))?;
    Ok(entries
        .into_iter()
        .filter(|e| e.local_address.port() == port || e.remote_address.port() == port)
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
    /// has arrived. For UDP: the size of the first datagram waiting.
    pub fn recv_queue(&self, sock: &Sock) -> io::Result<usize> {
        sock.settle();
        let n = sys::recv_queue(sock.fd())?;
        let what = Self::about(sock, "receive queue (FIONREAD)", "接收队列（FIONREAD）");
        self.record(
            what,
            Text::new(format!("{n} bytes waiting"), format!("{n} 字节待读")),
        );
        Ok(n)
    }

    /// Bytes in `sock`'s send queue that the peer has not acknowledged (`SIOCOUTQ`).
    pub fn send_queue(&self, sock: &Sock) -> io::Result<usize> {
        let n = sys::send_queue(sock.fd())?;
        let what = Self::about(sock, "send queue (SIOCOUTQ)", "发送队列（SIOCOUTQ）");
        self.record(
            what,
            Text::new(
                format!("{n} bytes not yet acknowledged"),
                format!("{n} 字节尚未被确认"),
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

    /// The state of the connection `local` -> `remote` in /proc/net/tcp, which also lists
    /// connections that no fd holds any more (TIME_WAIT after close). None: no such entry.
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
    /// /proc/net/tcp no longer lists `local` -> `remote`, then records what the kernel shows.
    pub fn tcp_connection_gone(&self, local: &Addr, remote: &Addr) -> io::Result<Option<TcpState>> {
        self.between(local, remote, |found| found.is_none())
    }

    fn between(
        &self,
        local: &Addr,
        remote: &Addr,
        settled: impl Fn(Option<TcpState>) -> bool,
    ) -> io::Result<Option<TcpState>> {
        let read = || -> io::Result<Option<TcpState>> {
            Ok(tcp_table(local.port().unwrap_or(0))?
                .into_iter()
                .find(|e| &e.local == local && &e.remote == remote)
                .map(|e| e.state))
        };
        let deadline = Instant::now() + wait::EXPECTED;
        let mut found = read()?;
        while !settled(found) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
            found = read()?;
        }
        let (from, to) = (
            show_addr(&self.trace, local),
            show_addr(&self.trace, remote),
        );
        let what = Text::new(
            format!("/proc/net/tcp: connection {from} to {to}"),
            format!("/proc/net/tcp：连接 {from} 到 {to}"),
        );
        let result = match found {
            Some(state) => Text::same(state.name()),
            None => Text::new("no such connection", "没有这条连接"),
        };
        self.record(what, result);
        Ok(found)
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
}
