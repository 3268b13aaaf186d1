//! What the kernel says about the lab's sockets, as `kernel` lines of the trace: bytes waiting
//! in queues, TCP states, accept queues. Every figure is read in this run, never assumed.
//!
//! A probe whose answer a lab's notes go on to describe takes the answer the lab expects
//! (`kernel.tcp_state(&conn, TcpState::CloseWait)`): the line always shows what the kernel
//! said, and a different answer stops the lab right after that line, so no note ever
//! describes a kernel state this run did not observe.

use std::io;
use std::net::SocketAddr;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;

use crate::event::{ByteFacts, Count, Facts, Kind, Outcome, ProbeFacts, Text};
use crate::phrases::{self, Probe};
use crate::pyrepr;
use crate::recorder::{Figure, Recorder};
use crate::sock::registry::Registry;
use crate::sock::{wait, Addr, Proto, Sock};
use crate::sys;

/// Declares the TCP states once: the kernel's number (include/net/tcp_states.h), the
/// variant, and the name `ss` and /proc/net/tcp readers use.
macro_rules! tcp_states {
    ($($number:literal => $state:ident $name:literal,)*) => {
        /// A TCP state as the kernel names it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum TcpState {
            $($state,)*
        }

        impl TcpState {
            /// The state the kernel numbers `number` (TCP_INFO's tcpi_state, /proc/net/tcp).
            pub fn from_kernel(number: u8) -> Option<TcpState> {
                match number {
                    $($number => Some(TcpState::$state),)*
                    _ => None,
                }
            }

            /// `ESTABLISHED`, `TIME_WAIT` ...
            pub fn name(self) -> &'static str {
                match self {
                    $(TcpState::$state => $name,)*
                }
            }
        }
    };
}

tcp_states! {
    1 => Established "ESTABLISHED",
    2 => SynSent "SYN_SENT",
    3 => SynRecv "SYN_RECV",
    4 => FinWait1 "FIN_WAIT1",
    5 => FinWait2 "FIN_WAIT2",
    6 => TimeWait "TIME_WAIT",
    7 => Close "CLOSE",
    8 => CloseWait "CLOSE_WAIT",
    9 => LastAck "LAST_ACK",
    10 => Listen "LISTEN",
    11 => Closing "CLOSING",
    12 => NewSynRecv "NEW_SYN_RECV",
}

/// What the filesystem holds at a path, as `os.stat(path).st_mode` tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Socket,
    Regular,
    Directory,
    Other,
}

impl FileKind {
    fn of(ty: std::fs::FileType) -> FileKind {
        if ty.is_socket() {
            FileKind::Socket
        } else if ty.is_file() {
            FileKind::Regular
        } else if ty.is_dir() {
            FileKind::Directory
        } else {
            FileKind::Other
        }
    }

    /// The kind's name in `--format json`.
    fn name(self) -> &'static str {
        match self {
            FileKind::Socket => "socket",
            FileKind::Regular => "regular",
            FileKind::Directory => "directory",
            FileKind::Other => "other",
        }
    }

    fn phrase(self) -> Probe {
        match self {
            FileKind::Socket => phrases::SOCKET_FILE,
            FileKind::Regular => phrases::REGULAR_FILE,
            FileKind::Directory => phrases::DIRECTORY,
            FileKind::Other => phrases::OTHER_FILE,
        }
    }
}

/// A probe showed something other than what the lab expects, so the notes that follow would
/// describe a kernel this run did not see.
#[derive(Debug, thiserror::Error)]
#[error("{what}: the lab expects {expected}, the kernel shows {shown}")]
pub struct Mismatch {
    pub what: String,
    pub expected: String,
    pub shown: String,
}

/// Why a probe stopped the lab.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// The kernel could not be asked.
    #[error(transparent)]
    Io(#[from] io::Error),
    /// The kernel answered something else than the lab expects.
    #[error(transparent)]
    Mismatch(#[from] Mismatch),
}

/// A figure the kernel reports that differs between machines.
pub const MEM_TOTAL: Figure = Figure::new("MEM_TOTAL");

/// One connection in the kernel's TCP table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpEntry {
    pub local: Addr,
    pub remote: Addr,
    pub state: TcpState,
}

pub use crate::sockdiag::TableSource as TcpTableSource;

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

/// `sock`'s own address and its peer's, both IP.
/// They are the ends the connection was made with, so they are known after the peer reset
/// it too (the table then has no such connection).
fn inet_ends(sock: &Sock) -> io::Result<(SocketAddr, SocketAddr)> {
    let ends = match sock.known_ends() {
        Some(ends) => ends,
        None => (sock.local_addr()?, sock.peer_addr()?),
    };
    match ends {
        (Addr::Inet(mine), Addr::Inet(theirs)) => Ok((mine, theirs)),
        _ => Err(io::Error::other("the TCP table holds only IP addresses")),
    }
}

/// What [`Kernel::peer_recv_queue`] reads, without a trace line: for engine code that watches
/// the peer's queue while it waits, and records a line (with that probe) only for a reading
/// it goes on to rely on.
pub(crate) fn peer_unread_now(sock: &Sock) -> io::Result<Option<usize>> {
    let (mine, theirs) = inet_ends(sock)?;
    Ok(receive_queue_at(theirs, mine)?.0)
}

/// The receive queue of the TCP socket `local` -> `remote` of this machine, from sock_diag or,
/// where netlink is refused, /proc/net/tcp (its rx_queue column).
fn receive_queue_at(
    local: SocketAddr,
    remote: SocketAddr,
) -> io::Result<(Option<usize>, TcpTableSource)> {
    let wanted = |l: SocketAddr, r: SocketAddr| l == local && r == remote;
    match crate::sockdiag::tcp_sockets_with_receive_queues(local.ip(), local.port(), remote.port())
    {
        Ok(sockets) => {
            let queue = sockets
                .into_iter()
                .find(|(s, _)| wanted(s.local, s.remote))
                .map(|(_, queue)| queue as usize);
            Ok((queue, TcpTableSource::SockDiag))
        }
        Err(_) => {
            let (table, file) = if local.is_ipv4() {
                (procfs::net::tcp(), "/proc/net/tcp")
            } else {
                (procfs::net::tcp6(), "/proc/net/tcp6")
            };
            let entries = table.map_err(|e| plain_proc_error(e, file))?;
            let queue = entries
                .into_iter()
                .find(|e| wanted(e.local_address, e.remote_address))
                .map(|e| e.rx_queue as usize);
            Ok((queue, TcpTableSource::ProcNetTcp))
        }
    }
}

/// The accept queue of the TCP socket listening on `at`'s port, from sock_diag or, where
/// netlink is refused, /proc/net/tcp (a listening socket's rx_queue column is its accept
/// queue there too).
fn accept_queue_at(at: SocketAddr) -> io::Result<(Option<u32>, TcpTableSource)> {
    match crate::sockdiag::accept_queue(at.ip(), at.port()) {
        Ok(queue) => Ok((queue, TcpTableSource::SockDiag)),
        Err(_) => {
            let (table, file) = if at.is_ipv4() {
                (procfs::net::tcp(), "/proc/net/tcp")
            } else {
                (procfs::net::tcp6(), "/proc/net/tcp6")
            };
            let entries = table.map_err(|e| plain_proc_error(e, file))?;
            let queue = entries
                .into_iter()
                .find(|e| {
                    e.local_address.port() == at.port()
                        && TcpState::from_kernel(e.state.to_u8()) == Some(TcpState::Listen)
                })
                .map(|e| e.rx_queue);
            Ok((queue, TcpTableSource::ProcNetTcp))
        }
    }
}

/// The connections between the two ports as /proc/net/tcp (or tcp6) lists them.
fn proc_net_tcp(local: SocketAddr, remote: SocketAddr) -> io::Result<Vec<TcpEntry>> {
    let (table, file) = if local.is_ipv4() {
        (procfs::net::tcp(), "/proc/net/tcp")
    } else {
        (procfs::net::tcp6(), "/proc/net/tcp6")
    };
    let entries = table.map_err(|e| plain_proc_error(e, file))?;
    Ok(entries
        .into_iter()
        .filter(|e| {
            e.local_address.port() == local.port() && e.remote_address.port() == remote.port()
        })
        .filter_map(|e| {
            Some(TcpEntry {
                local: Addr::Inet(e.local_address),
                remote: Addr::Inet(e.remote_address),
                state: TcpState::from_kernel(e.state.to_u8())?,
            })
        })
        .collect())
}

/// A procfs error as a plain sentence about the file. procfs words some errors as its own
/// bugs ("please report this procfs bug"); a user only needs to know which file could not be
/// read and why.
pub fn plain_proc_error(err: procfs::ProcError, file: &str) -> io::Error {
    use procfs::ProcError;
    match err {
        ProcError::PermissionDenied(_) => io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!("cannot read {file}: permission denied"),
        ),
        ProcError::NotFound(_) => io::Error::new(
            io::ErrorKind::NotFound,
            format!("cannot read {file}: it does not exist (is /proc mounted?)"),
        ),
        ProcError::Io(inner, _) => {
            io::Error::new(inner.kind(), format!("cannot read {file}: {inner}"))
        }
        ProcError::Incomplete(_) | ProcError::Other(_) | ProcError::InternalError(_) => {
            io::Error::other(format!(
                "cannot read {file}: its contents are not in the form netlab expects"
            ))
        }
    }
}

/// The kernel as a side of the trace.
pub struct Kernel {
    recorder: Recorder,
    registry: Registry,
}

impl Kernel {
    pub(crate) fn new(recorder: Recorder, registry: Registry) -> Kernel {
        Kernel { recorder, registry }
    }

    /// Records a probe's line: its words, and the same as data (`facts`).
    fn record(&self, what: Text, result: Text, facts: impl FnOnce(&mut Facts)) {
        self.recorder
            .emit("kernel", Kind::Kernel, what, Outcome::Returned(result));
        self.recorder.facts(facts);
    }

    /// Records a probe's line, then stops the lab unless the kernel showed what it expects.
    fn record_expecting<T: PartialEq>(
        &self,
        (what, result): (Text, Text),
        (found, expected): (T, T),
        expected_text: Text,
        facts: impl FnOnce(&mut Facts),
    ) -> Result<(), Mismatch> {
        let mismatch = (found != expected).then(|| Mismatch {
            what: what.en.to_string(),
            expected: expected_text.en.to_string(),
            shown: result.en.to_string(),
        });
        self.record(what, result, facts);
        mismatch.map_or(Ok(()), Err)
    }

    /// Which probe read which of the lab's sockets, as data.
    fn probe(source: &'static str, sock: Option<&Sock>) -> ProbeFacts {
        ProbeFacts {
            source,
            socket: sock.map(|s| format!("{} {}", s.side().name(), s.var())),
        }
    }

    /// A probe that read one of the lab's sockets, as data: the probe, and the socket.
    fn read(f: &mut Facts, source: &'static str, sock: &Sock) {
        f.probe = Some(Self::probe(source, Some(sock)));
        f.socket = Some(sock.socket_facts());
    }

    /// `server conn: receive queue (FIONREAD)`, in both languages.
    fn about(sock: &Sock, probe: Probe) -> Text {
        phrases::about(&format!("{} {}", sock.side().name(), sock.var()), probe)
    }

    /// Bytes waiting in `sock`'s receive queue (`FIONREAD`), after what in-process peers sent
    /// has arrived. For UDP the kernel tells the size of the next datagram only (0 also when
    /// that datagram is empty or nothing waits), and the line says so.
    pub fn recv_queue(&self, sock: &Sock) -> io::Result<usize> {
        self.recorder.begin();
        sock.settle();
        let n = sys::recv_queue(sock.borrowed_fd())?;
        let shown = self.recorder.figure(n);
        let (result, queue) = if sock.proto() == Proto::Udp {
            (phrases::bytes_in_next_datagram(&shown), "next_datagram")
        } else {
            (phrases::bytes_waiting(&shown), "receive")
        };
        self.record(Self::about(sock, phrases::RECEIVE_QUEUE), result, |f| {
            Self::read(f, "FIONREAD", sock);
            f.queue = vec![(queue, Count::shown(&shown))];
        });
        Ok(n)
    }

    /// Bytes in `sock`'s send queue that the peer has not acknowledged (`SIOCOUTQ`). When the
    /// peer is in this lab, first waits (bounded) until it has acknowledged every byte that
    /// reached it, so the figure does not depend on when its delayed ACK goes out.
    pub fn send_queue(&self, sock: &Sock) -> io::Result<usize> {
        self.recorder.begin();
        sock.settle_acks();
        let n = sys::send_queue(sock.borrowed_fd())?;
        let shown = self.recorder.figure(n);
        self.record(
            Self::about(sock, phrases::SEND_QUEUE),
            phrases::bytes_not_acknowledged(&shown),
            |f| {
                Self::read(f, "SIOCOUTQ", sock);
                f.queue = vec![("send_unacknowledged", Count::shown(&shown))];
            },
        );
        Ok(n)
    }

    /// Bytes in `sock`'s send queue that were not even transmitted yet (`SIOCOUTQNSD`): the
    /// peer's receive window has no room for them. Settles like [`Kernel::send_queue`].
    pub fn unsent_queue(&self, sock: &Sock) -> io::Result<usize> {
        self.recorder.begin();
        sock.settle_acks();
        let n = sys::unsent(sock.borrowed_fd())?;
        let shown = self.recorder.figure(n);
        self.record(
            Self::about(sock, phrases::UNSENT_QUEUE),
            phrases::bytes_not_transmitted(&shown),
            |f| {
                Self::read(f, "SIOCOUTQNSD", sock);
                f.queue = vec![("send_untransmitted", Count::shown(&shown))];
            },
        );
        Ok(n)
    }

    /// `sock`'s TCP state (`TCP_INFO`), after in-flight FIN/RST from in-process peers arrived.
    /// `expected` is the state the lab's last step drives the socket to: the probe waits,
    /// bounded, until the kernel shows it (a FIN this socket sent is acknowledged only when the
    /// peer's delayed ACK goes out, say). The line shows what the kernel says; anything but
    /// `expected` stops the lab.
    pub fn tcp_state(&self, sock: &Sock, expected: TcpState) -> Result<(), ProbeError> {
        self.recorder.begin();
        sock.settle();
        let read = || -> io::Result<TcpState> {
            let info = sys::tcp_info(sock.borrowed_fd())?;
            TcpState::from_kernel(info.state)
                .ok_or_else(|| io::Error::other(format!("unknown TCP state {}", info.state)))
        };
        let mut state = read()?;
        // No fd event says that a state changed (an ACK of our FIN, say): cheap bounded looks.
        wait::until(&[], wait::EXPECTED, || {
            state = read()?;
            Ok(state == expected)
        })?;
        self.record_expecting(
            (
                Self::about(sock, phrases::TCP_STATE),
                Text::same(state.name()),
            ),
            (state, expected),
            Text::same(expected.name()),
            |f| {
                Self::read(f, "TCP_INFO", sock);
                f.tcp_state = Some(Some(state.name()));
            },
        )?;
        Ok(())
    }

    /// `sock`'s TCP state as the kernel reports it, with no expectation: for a lab whose story
    /// follows the answer, because a kernel timer may have changed it in a slow (paced) run,
    /// and for a connection whose other end is a program outside netlab (peer mode), whose
    /// next step netlab cannot know. The notes then branch on the state returned, so they
    /// describe what this run saw.
    pub fn tcp_state_now(&self, sock: &Sock) -> io::Result<TcpState> {
        self.recorder.begin();
        sock.settle();
        let info = sys::tcp_info(sock.borrowed_fd())?;
        let state = TcpState::from_kernel(info.state)
            .ok_or_else(|| io::Error::other(format!("unknown TCP state {}", info.state)))?;
        self.record(
            Self::about(sock, phrases::TCP_STATE),
            Text::same(state.name()),
            |f| {
                Self::read(f, "TCP_INFO", sock);
                f.tcp_state = Some(Some(state.name()));
            },
        );
        Ok(state)
    }

    /// Bytes waiting unread at the other end of `sock`'s connection, when that end is a socket
    /// of this machine: a program on loopback outside netlab (peer mode). The kernel's TCP
    /// table lists every connection of the host with its receive queue (`ss -tn` shows it as
    /// Recv-Q), so netlab can see what that program has not read yet. None when the table
    /// has no such connection (the other program closed its end).
    pub fn peer_recv_queue(&self, sock: &Sock) -> io::Result<Option<usize>> {
        self.recorder.begin();
        let (mine, theirs) = inet_ends(sock)?;
        let (queue, source) = receive_queue_at(theirs, mine)?;
        let what = phrases::peer_receive_queue(
            source,
            &self.registry.show_addr(&Addr::Inet(theirs)),
            &self.registry.show_addr(&Addr::Inet(mine)),
        );
        let result = match queue {
            Some(n) => phrases::bytes_waiting(&n.to_string()),
            None => phrases::no_such_connection(),
        };
        let (port, peer) = (
            self.registry.port(theirs.port()),
            self.registry.port(mine.port()),
        );
        self.record(what, result, |f| {
            f.probe = Some(Self::probe(source.name(), None));
            f.port = Some(port);
            f.peer = Some(peer);
            match queue {
                Some(n) => f.queue = vec![("peer_receive", Count::Number(n as u64))],
                None => f.tcp_state = Some(None),
            }
        });
        Ok(queue)
    }

    /// Connections waiting in the accept queue of the other program's listening socket, the
    /// server `sock` is connected to, when that program runs on this machine (peer mode): the
    /// kernel's TCP table lists listening sockets too (`ss -ltn` shows the queue as Recv-Q),
    /// so netlab can see connections that program has not accepted yet. None when nothing
    /// listens on that port any more.
    pub fn peer_accept_queue(&self, sock: &Sock) -> io::Result<Option<u32>> {
        self.recorder.begin();
        let (_, theirs) = inet_ends(sock)?;
        let (queue, source) = accept_queue_at(theirs)?;
        let what =
            phrases::peer_accept_queue(source, &self.registry.show_addr(&Addr::Inet(theirs)));
        let result = match queue {
            Some(n) => phrases::connections_waiting(n),
            None => phrases::nothing_listens(),
        };
        let port = self.registry.port(theirs.port());
        self.record(what, result, |f| {
            f.probe = Some(Self::probe(source.name(), None));
            f.port = Some(port);
            match queue {
                Some(n) => f.queue = vec![("peer_accept", Count::Number(n.into()))],
                None => f.tcp_state = Some(None),
            }
        });
        Ok(queue)
    }

    /// A listening socket's accept queue: (connections waiting, limit), after every client of
    /// this lab whose `connect()` returned has been queued (its last ACK may still be on its
    /// way when connect() returns).
    pub fn accept_queue(&self, listener: &Sock) -> io::Result<(u32, u32)> {
        self.recorder.begin();
        listener.settle_accept_queue();
        let info = sys::tcp_info(listener.borrowed_fd())?;
        let (waiting, max) = (info.accept_queue, info.accept_queue_max);
        self.record(
            Self::about(listener, phrases::ACCEPT_QUEUE),
            phrases::accept_queue(waiting, max),
            |f| {
                Self::read(f, "TCP_INFO", listener);
                f.queue = vec![
                    ("accept", Count::Number(waiting.into())),
                    ("accept_limit", Count::Number(max.into())),
                ];
            },
        );
        Ok((waiting, max))
    }

    /// The state of the connection `local` -> `remote` in the kernel's TCP table, which also
    /// lists connections that no fd holds any more (TIME_WAIT after close). `expected` is what
    /// the lab's last step is driving the connection to (a FIN on its way, say; None: out of
    /// the table): the probe waits, bounded, until the kernel shows it, records what the
    /// kernel shows, and stops the lab if that is something else.
    pub fn tcp_state_between(
        &self,
        local: &Addr,
        remote: &Addr,
        expected: Option<TcpState>,
    ) -> Result<(), ProbeError> {
        self.recorder.begin();
        let read = || -> io::Result<(Option<TcpState>, TcpTableSource)> {
            let (entries, source) = tcp_table(local, remote)?;
            let found = entries
                .into_iter()
                .find(|e| &e.local == local && &e.remote == remote)
                .map(|e| e.state);
            Ok((found, source))
        };
        // No fd event says that a connection changed state (a TIME_WAIT entry has no fd at
        // all): paused looks, bounded. The states a lab drives a connection to follow from
        // segments already on their way (a FIN, its ACK), so the look normally succeeds at
        // once or within microseconds.
        let (mut found, mut source) = read()?;
        if found != expected {
            wait::until(&[], wait::EXPECTED, || {
                (found, source) = read()?;
                Ok(found == expected)
            })?;
        }
        let what = phrases::tcp_connection(
            source,
            &self.registry.show_addr(local),
            &self.registry.show_addr(remote),
        );
        let show = |state: Option<TcpState>| match state {
            Some(state) => Text::same(state.name()),
            None => phrases::no_such_connection(),
        };
        let port = local.port().map(|p| self.registry.port(p));
        let peer = remote.port().map(|p| self.registry.port(p));
        let socket = self
            .registry
            .connection(local, remote)
            .map(|id| self.registry.socket_facts(id));
        self.record_expecting(
            (what, show(found)),
            (found, expected),
            show(expected),
            |f| {
                f.probe = Some(Self::probe(source.name(), None));
                f.tcp_state = Some(found.map(TcpState::name));
                f.port = port;
                f.peer = peer;
                f.socket = socket;
            },
        )?;
        Ok(())
    }

    /// The state of the connection `local` -> `remote` in the kernel's TCP table now, with no
    /// expectation: for an end that belongs to a program outside netlab (peer mode), which
    /// netlab cannot drive. The line shows what the kernel said; None: no such connection.
    pub fn tcp_state_between_seen(
        &self,
        local: &Addr,
        remote: &Addr,
    ) -> io::Result<Option<TcpState>> {
        self.recorder.begin();
        let (entries, source) = tcp_table(local, remote)?;
        let found = entries
            .into_iter()
            .find(|e| &e.local == local && &e.remote == remote)
            .map(|e| e.state);
        let what = phrases::tcp_connection(
            source,
            &self.registry.show_addr(local),
            &self.registry.show_addr(remote),
        );
        let shown = match found {
            Some(state) => Text::same(state.name()),
            None => phrases::no_such_connection(),
        };
        let port = local.port().map(|p| self.registry.port(p));
        let peer = remote.port().map(|p| self.registry.port(p));
        self.record(what, shown, |f| {
            f.probe = Some(Self::probe(source.name(), None));
            f.tcp_state = Some(found.map(TcpState::name));
            f.port = port;
            f.peer = peer;
        });
        Ok(found)
    }

    /// A numeric sysctl such as `net.core.somaxconn`, read from /proc/sys. Its value differs
    /// between machines, so it shows as `figure` unless `--raw`; a lab that relies on it
    /// states the relation it needs with `Trace::expect`.
    pub fn sysctl(&self, name: &str, figure: Figure) -> io::Result<u64> {
        self.recorder.begin();
        let path = format!("/proc/sys/{}", name.replace('.', "/"));
        let text = std::fs::read_to_string(&path)?;
        let value = text
            .trim()
            .parse::<u64>()
            .map_err(|_| io::Error::other(format!("{path} is not a number: {}", text.trim())))?;
        let shown = self.recorder.named_value(figure, value);
        self.record(
            Text::same(format!("{name} ({path})")),
            Text::same(shown.as_str()),
            |f| {
                f.probe = Some(Self::probe("sysctl", None));
                f.setting = Some((name.to_string(), Count::shown(&shown)));
            },
        );
        Ok(value)
    }

    /// Like [`Kernel::sysctl`] for a setting that only newer kernels have: where the file does
    /// not exist, the line says so and the lab goes on with `absent`, the value that kernel
    /// behaves as (shown under the same figure, so default output stays the same everywhere).
    pub fn sysctl_or(&self, name: &str, figure: Figure, absent: u64) -> io::Result<u64> {
        self.recorder.begin();
        let path = format!("/proc/sys/{}", name.replace('.', "/"));
        if std::path::Path::new(&path).exists() {
            return self.sysctl(name, figure);
        }
        let shown = phrases::no_such_setting(absent);
        let value = self.recorder.named_value(figure, absent);
        self.record(
            Text::same(format!("{name} ({path})")),
            Text::new(
                self.recorder.named_value(figure, &shown.en),
                self.recorder.named_value(figure, &shown.zh),
            ),
            |f| {
                f.probe = Some(Self::probe("sysctl", None));
                f.setting = Some((name.to_string(), Count::shown(&value)));
                f.file = Some((path.clone(), None));
            },
        );
        Ok(absent)
    }

    /// This machine's RAM as the kernel counts it (`MemTotal` in /proc/meminfo), in KiB.
    /// It differs from machine to machine, so it shows as [`MEM_TOTAL`] unless `--raw`; a lab
    /// states what it relies on as a relation it checks.
    pub fn mem_total(&self) -> io::Result<u64> {
        self.recorder.begin();
        use procfs::Current;
        let meminfo =
            procfs::Meminfo::current().map_err(|e| plain_proc_error(e, "/proc/meminfo"))?;
        let kib = meminfo.mem_total / 1024;
        let shown = self.recorder.named_value(MEM_TOTAL, kib);
        self.record(
            phrases::mem_total(),
            Text::same(format!("{shown} kB")),
            |f| {
                f.probe = Some(Self::probe("/proc/meminfo", None));
                f.setting = Some(("MemTotal".to_string(), Count::shown(&shown)));
            },
        );
        Ok(kib)
    }

    /// How many bytes of data `sock` has put on the wire so far, retransmissions included
    /// (`TCP_INFO` tcpi_bytes_sent, Linux 4.19+). A send() that put nothing on the wire
    /// leaves it unchanged. First waits (bounded) until bytes the kernel holds back only
    /// until an ACK (Nagle) have gone out, so the figure does not depend on when it came.
    pub fn bytes_sent(&self, sock: &Sock) -> io::Result<u64> {
        self.recorder.begin();
        sock.settle_sends();
        let info = sys::tcp_info(sock.borrowed_fd())?;
        let n = info.bytes_sent.ok_or_else(|| {
            io::Error::other("this kernel's TCP_INFO has no tcpi_bytes_sent (Linux 4.19+)")
        })?;
        self.record(
            Self::about(sock, phrases::BYTES_SENT),
            phrases::bytes(&n.to_string()),
            |f| {
                Self::read(f, "TCP_INFO", sock);
                f.bytes = Some(ByteFacts::new(Count::Number(n), None));
            },
        );
        Ok(n)
    }

    /// What the filesystem holds at `path` (`os.stat(path)` without following a symlink): an
    /// AF_UNIX socket's name is a file of its own type, S_IFSOCK, that outlives the socket.
    /// `expected` is the kind the lab's notes describe (None: no such file); the line shows
    /// what is there, and anything else stops the lab.
    pub fn file_type(&self, path: &Path, expected: Option<FileKind>) -> Result<(), ProbeError> {
        self.recorder.begin();
        let shown_path = self.registry.path(path);
        let what = phrases::file(&pyrepr::str_literal(&shown_path));
        let found = match std::fs::symlink_metadata(path) {
            Ok(meta) => Some(FileKind::of(meta.file_type())),
            Err(err) if err.kind() == io::ErrorKind::NotFound => None,
            Err(err) => return Err(err.into()),
        };
        let show = |kind: Option<FileKind>| {
            let (en, zh) = kind.map_or(phrases::NO_SUCH_FILE, FileKind::phrase);
            Text::new(en, zh)
        };
        self.record_expecting(
            (what, show(found)),
            (found, expected),
            show(expected),
            |f| {
                f.probe = Some(Self::probe("lstat", None));
                f.file = Some((shown_path, found.map(FileKind::name)));
            },
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_has_its_kernel_number_and_name() {
        for number in 1..=12 {
            let state = TcpState::from_kernel(number).unwrap();
            let procfs_state = procfs::net::TcpState::from_u8(number).unwrap();
            assert_eq!(format!("{procfs_state:?}"), format!("{state:?}"));
        }
        assert_eq!(TcpState::from_kernel(6), Some(TcpState::TimeWait));
        assert_eq!(TcpState::TimeWait.name(), "TIME_WAIT");
        assert_eq!(TcpState::CloseWait.name(), "CLOSE_WAIT");
        assert_eq!(TcpState::from_kernel(0), None);
        assert_eq!(TcpState::from_kernel(13), None);
    }

    #[test]
    fn procfs_errors_reach_a_user_as_plain_sentences() {
        use procfs::{InternalError, ProcError};
        let internal = ProcError::InternalError(InternalError {
            msg: "Failed to unwrap".into(),
            file: "meminfo.rs",
            line: 1,
        });
        assert!(internal.to_string().contains("please report"));
        let errors = [
            internal,
            ProcError::Incomplete(None),
            ProcError::Other("bad".into()),
            ProcError::NotFound(None),
            ProcError::PermissionDenied(None),
            ProcError::Io(io::Error::other("eio"), None),
        ];
        for err in errors {
            let plain = plain_proc_error(err, "/proc/meminfo").to_string();
            assert!(plain.starts_with("cannot read /proc/meminfo: "), "{plain}");
            assert!(!plain.contains("report"), "{plain}");
            assert!(!plain.contains("bug"), "{plain}");
        }
    }
}
