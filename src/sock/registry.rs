//! The lab's sockets as the engine knows them: to find in-process peers, to know what they
//! sent, and to show ports and paths under stable names. Owned by the socket layer; kernel
//! probes read it too.
//!
//! Every method borrows the register only while it works on the register's own data (the
//! names included) and hands back owned values: no borrow is held while other code runs, and
//! `update` takes only closures that change the record's fields.

use std::cell::RefCell;
use std::io;
use std::path::{Path, PathBuf};
use std::rc::{Rc, Weak};

use socket2::Socket;

use super::addr::{Addr, Proto};
use crate::cleanup::TempDir;
use crate::event::SocketFacts;
use crate::names::{Names, PortRole};
use crate::pyrepr;

/// What the engine knows about one socket of this lab.
#[derive(Debug, Clone)]
pub(crate) struct SockRecord {
    pub(crate) proto: Proto,
    /// The program that made it: `server`, `client`, `client-2` ...
    pub(crate) side: Rc<str>,
    /// Its Python variable: `phone`, `conn`.
    pub(crate) var: String,
    /// The socket while it is open; dead once the lab closed or dropped it.
    socket: Weak<Socket>,
    pub(crate) local: Option<Addr>,
    pub(crate) peer: Option<Addr>,
    pub(crate) listening: bool,
    pub(crate) sent: u64,
    pub(crate) received: u64,
    pub(crate) fin_sent: bool,
    pub(crate) reset_sent: bool,
    pub(crate) datagrams_expected: u64,
    pub(crate) datagrams_received: u64,
    /// A connected UDP socket sent a datagram to an address where a socket of this lab was
    /// bound and is closed now: the kernel answers with an ICMP "port unreachable" (never
    /// rate-limited on loopback), which this socket's next call reports. Cleared by the call
    /// that reports an error.
    pub(crate) icmp_error_due: bool,
    /// A TCP socket whose `connect()` is still in progress (SYN_SENT), and where to.
    pub(crate) dialling: Option<Addr>,
    /// Where its last connect() or connect_ex() went: a connect the peer refused leaves the
    /// socket without a local port to name it by, yet its SYN came from it.
    pub(crate) connecting_to: Option<Addr>,
}

impl SockRecord {
    pub(crate) fn new(proto: Proto, side: Rc<str>, var: &str, socket: &Rc<Socket>) -> SockRecord {
        SockRecord {
            proto,
            side,
            var: var.to_string(),
            socket: Rc::downgrade(socket),
            local: None,
            peer: None,
            listening: false,
            sent: 0,
            received: 0,
            fin_sent: false,
            reset_sent: false,
            datagrams_expected: 0,
            datagrams_received: 0,
            icmp_error_due: false,
            dialling: None,
            connecting_to: None,
        }
    }

    /// The socket, if it is still open: holding it keeps its fd valid.
    pub(crate) fn socket(&self) -> Option<Rc<Socket>> {
        self.socket.upgrade()
    }

    pub(crate) fn is_open(&self) -> bool {
        self.socket.strong_count() > 0
    }
}

/// The register of one lab run. Cheap to clone: every handle shares the same register.
#[derive(Clone)]
pub(crate) struct Registry {
    inner: Rc<RefCell<Inner>>,
}

struct Inner {
    names: Names,
    sockets: Vec<SockRecord>,
    temp_dir: Option<TempDir>,
}

/// A socket's index in the register.
pub(crate) type SockId = usize;

impl Registry {
    pub(crate) fn new(raw: bool) -> Registry {
        Registry {
            inner: Rc::new(RefCell::new(Inner {
                names: Names::new(raw),
                sockets: Vec::new(),
                temp_dir: None,
            })),
        }
    }

    pub(crate) fn add(&self, record: SockRecord) -> SockId {
        let mut inner = self.inner.borrow_mut();
        inner.sockets.push(record);
        inner.sockets.len() - 1
    }

    /// A copy of one socket's record.
    pub(crate) fn get(&self, id: SockId) -> SockRecord {
        self.inner.borrow().sockets[id].clone()
    }

    /// Copies of every record, in the order the sockets were made.
    pub(crate) fn all(&self) -> Vec<SockRecord> {
        self.inner.borrow().sockets.clone()
    }

    /// Changes one socket's record.
    pub(crate) fn update(&self, id: SockId, change: impl FnOnce(&mut SockRecord)) {
        change(&mut self.inner.borrow_mut().sockets[id]);
    }

    /// Stores the addresses the kernel reports for a socket and names its ports.
    ///
    /// `chosen_by_kernel`: the kernel has just picked this socket's port. A number it picks
    /// may be one an earlier, closed socket of this lab used: the new endpoint then gets a new
    /// name, so names never depend on which numbers the kernel happens to reuse.
    pub(crate) fn set_addrs(
        &self,
        id: SockId,
        local: Option<Addr>,
        peer: Option<Addr>,
        role: PortRole,
        chosen_by_kernel: bool,
    ) {
        let mut inner = self.inner.borrow_mut();
        let before = inner.sockets[id].local.as_ref().and_then(Addr::port);
        if let Some(port) = local.as_ref().and_then(Addr::port) {
            if chosen_by_kernel && port != 0 && before != Some(port) {
                inner.names.rename_port(port, role);
            } else {
                inner.names.name_port(port, role);
            }
        }
        if let Some(port) = peer.as_ref().and_then(Addr::port) {
            inner.names.name_port(port, PortRole::Ephemeral);
        }
        let record = &mut inner.sockets[id];
        record.local = local;
        record.peer = peer;
    }

    /// The socket in this lab at the other end of `id`'s connection, when the lab made it. An
    /// AF_UNIX client end has no name to match by, so there only a single candidate counts.
    pub(crate) fn in_process_peer(&self, id: SockId) -> Option<SockId> {
        let sockets = &self.inner.borrow().sockets;
        let me = &sockets[id];
        let (local, peer) = (me.local.as_ref()?, me.peer.as_ref()?);
        let other_end = |(i, r): &(usize, &SockRecord)| {
            *i != id
                && !r.listening
                && r.local.as_ref() == Some(peer)
                && r.peer.as_ref() == Some(local)
        };
        if *peer == Addr::Unnamed || *local == Addr::Unnamed {
            let candidates: Vec<SockId> = sockets
                .iter()
                .enumerate()
                .filter(|entry| entry.1.proto == me.proto && other_end(entry))
                .map(|(i, _)| i)
                .collect();
            return (candidates.len() == 1).then(|| candidates[0]);
        }
        sockets.iter().enumerate().find(other_end).map(|(i, _)| i)
    }

    /// The last socket of this lab whose connection ran from `local` to `remote` (it may be
    /// closed: its connection can outlive it, in TIME_WAIT).
    pub(crate) fn connection(&self, local: &Addr, remote: &Addr) -> Option<SockId> {
        self.inner
            .borrow()
            .sockets
            .iter()
            .rposition(|r| r.local.as_ref() == Some(local) && r.peer.as_ref() == Some(remote))
    }

    /// Which socket a line is about, as data (see [`SocketFacts`]).
    pub(crate) fn socket_facts(&self, id: SockId) -> SocketFacts {
        let record = self.get(id);
        let show = |addr: &Option<Addr>| addr.as_ref().map(|a| self.show_addr(a));
        SocketFacts {
            id: id as u32,
            side: record.side.to_string(),
            var: record.var.clone(),
            local: show(&record.local),
            peer: show(&record.peer),
            datagram: record.proto == Proto::Udp,
            peer_socket: self.in_process_peer(id).map(|peer| peer as u32),
            sent: record.sent,
            received: record.received,
            datagrams_received: record.datagrams_received,
            datagram_to: None,
        }
    }

    /// Shows `port` as its number (a port a person typed; see [`Names::keep_number`]).
    pub(crate) fn keep_port_number(&self, port: u16) {
        self.inner.borrow_mut().names.keep_number(port);
    }

    /// Names the port of a sender or caller outside this lab when it has no name yet, so it
    /// shows as `CLIENT_PORT_N` unless `--raw`.
    pub(crate) fn name_peer_port(&self, port: u16) {
        self.inner
            .borrow_mut()
            .names
            .name_port(port, PortRole::Ephemeral);
    }

    /// How a port shows: its stable name, or the number under `--raw`.
    pub(crate) fn port(&self, port: u16) -> String {
        self.inner.borrow().names.port(port)
    }

    /// Whether names are off (`--raw`).
    pub(crate) fn is_raw(&self) -> bool {
        self.inner.borrow().names.is_raw()
    }

    /// A port's stable name, if it has one (None under `--raw` too).
    pub(crate) fn port_name(&self, port: u16) -> Option<String> {
        self.inner.borrow().names.port_name(port)
    }

    /// A path with the temporary directory shown as `TMP` (unless `--raw`).
    pub(crate) fn path(&self, path: &Path) -> String {
        self.inner.borrow().names.path(path)
    }

    /// An address in Python notation with this run's names: `('127.0.0.1', PORT)`,
    /// `'TMP/echo.sock'`.
    pub(crate) fn show_addr(&self, addr: &Addr) -> String {
        match addr {
            Addr::Inet(inet) => self.inner.borrow().names.inet(inet),
            Addr::Unix(path) => pyrepr::str_literal(&self.path(path)),
            Addr::Unnamed => "''".to_string(),
        }
    }

    /// The run's temporary directory, made on first use and shown as `TMP`; removed when the
    /// run ends, or on a signal (see [`crate::cleanup`]).
    pub(crate) fn temp_dir(&self) -> io::Result<PathBuf> {
        if let Some(dir) = &self.inner.borrow().temp_dir {
            return Ok(dir.path().to_path_buf());
        }
        let dir = TempDir::new()?;
        let path = dir.path().to_path_buf();
        let mut inner = self.inner.borrow_mut();
        inner.names.name_dir(&path, "TMP");
        inner.temp_dir = Some(dir);
        Ok(path)
    }
}
