//! What the kernel shows on its way to a socket, and waiting for it.
//!
//! Before a socket reads or is probed, netlab waits (bounded, see [`wait`]) until everything
//! the lab's own sockets set off has reached it: bytes on the wire, bytes a peer's kernel holds
//! back until this socket's ACK, a FIN, an RST, a datagram, an ICMP error. Then a call that
//! would block is decided by the kernel: nothing is on its way, and a zero-timeout poll (or
//! the non-blocking attempt itself) says "not ready". The lab is one orchestrator, so no
//! program of the lab acts while the call waits and that answer cannot change: the course's
//! program would wait forever. Only a peer outside this process is watched on a clock.

use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::time::Duration;

use super::addr::{Addr, Proto};
use super::registry::{SockId, SockRecord};
use super::wait::{self, Blocked};
use super::Sock;
use crate::sys::{self, Ready};

/// Who may still send to a socket, or connect to a listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Senders {
    /// Only sockets of this lab: the kernel shows everything they set off.
    InLab,
    /// A program outside this process (a student's program in peer mode), which may act at
    /// any time: the kernel cannot say whether it will.
    Outside,
}

/// What the kernel shows on its way to a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Due {
    /// Nothing is on its way and nothing the lab's sockets sent is left unread.
    Nothing,
    /// Something is on its way: in flight, or held in the peer's send queue until an ACK.
    InFlight,
    /// Everything on its way has arrived, and some of it is still to be read.
    Arrived,
}

/// How a wait for a call that may block ended.
pub(super) enum Wait {
    Ready,
    Blocked(Blocked),
}

/// How many open clients of this lab finished their handshake with `listener` and were not
/// accepted yet: each one's connection is in the accept queue, or the ACK that puts it there
/// is on its way.
pub(super) fn unaccepted_clients(sockets: &[SockRecord], listener: SockId) -> usize {
    let Some(local) = sockets[listener].local.as_ref() else {
        return 0;
    };
    let accepted = |client: &Addr| {
        sockets
            .iter()
            .any(|r| r.local.as_ref() == Some(local) && r.peer.as_ref() == Some(client))
    };
    sockets
        .iter()
        .filter(|r| !r.listening && r.peer.as_ref() == Some(local) && r.is_open())
        .filter_map(|r| r.local.as_ref())
        .filter(|client| !accepted(client))
        .count()
}

/// Waits (bounded) until a TCP listener's accept queue holds at least `expected`
/// connections. A client's kernel finishes the handshake when the SYN-ACK arrives; the final
/// ACK that makes the server's kernel queue the connection may still be on its way. No fd
/// event says "queued" past the first connection: paused looks.
pub(super) fn settle_accept_queue(listener: BorrowedFd<'_>, expected: usize) {
    let queued = || sys::tcp_info(listener).map(|info| info.accept_queue as usize);
    let _ = wait::until(&[], wait::EXPECTED, || Ok(queued()? >= expected));
}

impl Sock {
    /// Who may still send to this socket (or, for a listener, connect to it). The lab's own
    /// sockets are its senders when the lab made the other end: the connection's peer, a
    /// client that dialled this listener, another UDP socket. A lone socket talks to a program
    /// outside netlab.
    pub(super) fn senders(&self) -> Senders {
        let in_lab = if self.registry().get(self.id).listening {
            self.dialled_from_lab()
        } else if self.proto == Proto::Udp {
            self.udp_in_lab()
        } else {
            self.in_process_peer().is_some()
        };
        if in_lab {
            Senders::InLab
        } else {
            Senders::Outside
        }
    }

    pub(super) fn in_process_peer(&self) -> Option<SockId> {
        self.registry().in_process_peer(self.id)
    }

    /// A UDP socket has no connection to tell who may send to it. When this lab made other UDP
    /// sockets (open or closed by now), the lab's own sockets are its senders and what they sent
    /// is counted (see [`Sock::sendto`]): nothing counted means nothing is coming. A lone UDP
    /// socket talks to a program outside netlab.
    pub(super) fn udp_in_lab(&self) -> bool {
        if self.proto != Proto::Udp {
            return false;
        }
        self.registry()
            .all()
            .iter()
            .enumerate()
            .any(|(i, r)| i != self.id && r.proto == Proto::Udp)
    }

    /// A listener that a socket of this lab connected to or is dialling: its clients are the
    /// lab's. A listener that none of the lab's sockets ever dialled waits for outside ones.
    fn dialled_from_lab(&self) -> bool {
        let sockets = self.registry().all();
        let Some(local) = sockets[self.id].local.as_ref() else {
            return false;
        };
        sockets.iter().enumerate().any(|(i, r)| {
            i != self.id
                && !r.listening
                && (r.peer.as_ref() == Some(local) || r.dialling.as_ref() == Some(local))
        })
    }

    /// A listener with a connected in-process client that has not been accepted yet.
    pub(super) fn has_unaccepted_peer(&self) -> bool {
        self.unaccepted_peers() > 0
    }

    fn unaccepted_peers(&self) -> usize {
        unaccepted_clients(&self.registry().all(), self.id)
    }

    /// For a TCP listener: waits (bounded) until every client of this lab whose `connect()`
    /// returned is in the accept queue (see [`settle_accept_queue`]).
    pub(crate) fn settle_accept_queue(&self) {
        if self.proto == Proto::Tcp && self.registry().get(self.id).listening {
            settle_accept_queue(self.borrowed_fd(), self.unaccepted_peers());
        }
    }

    /// A listener that an open socket of this lab is still dialling (its SYN unanswered).
    pub(super) fn has_dialling_client(&self) -> bool {
        let sockets = self.registry().all();
        let Some(local) = sockets[self.id].local.as_ref() else {
            return false;
        };
        sockets
            .iter()
            .any(|r| r.is_open() && r.dialling.as_ref() == Some(local))
    }

    /// Settles (see [`Sock::settle`]), then decides a blocking read of up to `bufsize` bytes:
    /// `Ready` to read now, or why Python would still be blocked.
    ///
    /// A stream read that finds `bufsize` bytes waiting already returns exactly those, the
    /// next ones of the stream, whatever else is on its way: it reads at once, as the course's
    /// program would. (Waiting first for bytes that a peer's kernel holds back until an ACK
    /// would make the delayed-ACK timer run where the program's own read may have sent the
    /// ACK sooner.) Not when an RST is due, which may reach the socket first.
    pub(super) fn wait_readable(&self, bufsize: usize) -> io::Result<Wait> {
        if self.proto != Proto::Udp && self.enough_waiting(bufsize) {
            return Ok(Wait::Ready);
        }
        let due = self.settled();
        if !self.blocking {
            return Ok(Wait::Ready); // the read itself raises BlockingIOError if nothing is there
        }
        let events = Ready::IN | Ready::RDHUP;
        let nothing = if self.proto == Proto::Udp {
            Blocked::NoDatagram
        } else {
            Blocked::NoData
        };
        match (due, self.senders()) {
            (Due::Nothing, Senders::InLab) => self.ready_now_or(events, nothing),
            (Due::Nothing, Senders::Outside) => self.watch(events, wait::EXTERNAL),
            // What is due has arrived: readable at once (the bound only guards the kernel).
            (Due::Arrived, _) => self.watch(events, wait::EXPECTED),
            // What the kernel showed on its way did not come within the bound.
            (Due::InFlight, _) => self.ready_now_or(events, Blocked::Watched(wait::EXPECTED)),
        }
    }

    fn enough_waiting(&self, bufsize: usize) -> bool {
        let reset_due = self
            .in_process_peer()
            .is_some_and(|peer| self.registry().get(peer).reset_sent);
        !reset_due && sys::recv_queue(self.borrowed_fd()).is_ok_and(|queued| queued >= bufsize)
    }

    /// Decides a blocking `accept()`: `Ready` to accept now, or why Python would still wait.
    pub(super) fn wait_acceptable(&self) -> io::Result<Wait> {
        if self.has_unaccepted_peer() {
            // The client's handshake is done: its connection is in the queue, or the ACK that
            // puts it there is on its way.
            return self.watch(Ready::IN, wait::EXPECTED);
        }
        if self.has_dialling_client() {
            // A client whose SYN a full queue dropped: its kernel resends the SYN on a timer
            // (1 s after the first, TCP_TIMEOUT_INIT, then longer), so the kernel cannot show
            // it on its way; the only watch on a clock for a peer of this lab.
            return self.watch(Ready::IN, wait::EXPECTED);
        }
        match self.senders() {
            Senders::InLab => self.ready_now_or(Ready::IN, Blocked::NoConnection),
            Senders::Outside => self.watch(Ready::IN, wait::EXTERNAL),
        }
    }

    /// After a send found the send buffer full (EAGAIN): whether room is on its way, so the
    /// send should be tried again (true), or the call blocks (false, with why). Room comes
    /// back only when the peer's kernel acknowledges bytes already transmitted; while the
    /// call waits, the peer program of this lab does not read, so once nothing transmitted is
    /// left unacknowledged, the buffer stays full. An outside peer may read at any time: it is
    /// watched on a clock.
    pub(super) fn room_coming(&self) -> io::Result<Result<(), Blocked>> {
        let watched = |limit| -> io::Result<Result<(), Blocked>> {
            Ok(match self.watch(Ready::OUT, limit)? {
                Wait::Ready => Ok(()),
                Wait::Blocked(why) => Err(why),
            })
        };
        if self.proto == Proto::Udp {
            // Datagrams leave the send buffer as the kernel delivers them: no reader needed.
            return watched(wait::EXPECTED);
        }
        if self.in_process_peer().is_none() {
            return watched(wait::EXTERNAL);
        }
        if !self.room_on_its_way() {
            return Ok(Err(Blocked::BufferFull));
        }
        // An ACK frees room without an fd event unless it crosses poll's threshold: paused
        // looks, woken early by POLLOUT. The ACK may wait for the peer's delayed-ACK timer
        // (40 ms, at most TCP_DELACK_MAX 200 ms).
        let fd = self.borrowed_fd();
        let moved = wait::until(&[(fd, Ready::OUT)], wait::EXPECTED, || {
            Ok(!self.room_on_its_way() || self.ready_now(Ready::OUT)?)
        })?;
        Ok(if moved {
            Ok(())
        } else {
            Err(Blocked::Watched(wait::EXPECTED))
        })
    }

    /// Whether the kernel will make room in this TCP socket's full send buffer without the
    /// peer program acting: bytes are transmitted and not yet acknowledged (the peer's kernel
    /// acknowledges them, at once or when its delayed-ACK timer fires); held bytes fit the
    /// window the peer offered (a window too small for a full segment is filled by the
    /// window-probe timer); or the peer's receive queue is empty, so its window is open and
    /// the update saying so is on its way.
    fn room_on_its_way(&self) -> bool {
        let peer_drained = self
            .in_process_peer()
            .and_then(|peer| self.registry().get(peer).socket())
            .is_some_and(|peer| sys::recv_queue(peer.as_fd()).is_ok_and(|n| n == 0));
        peer_drained || self.sends_by_itself()
    }

    /// A TCP socket whose kernel will still transmit or be acknowledged by itself: bytes
    /// transmitted and not acknowledged (TCP_INFO's `tcpi_unacked`), or bytes held that the
    /// peer's window has room for.
    fn sends_by_itself(&self) -> bool {
        self.ack_due()
            || sys::tcp_info(self.borrowed_fd())
                .is_ok_and(|info| info.not_sent > 0 && info.send_window.is_some_and(|w| w > 0))
    }

    /// A TCP socket with bytes transmitted and not yet acknowledged (TCP_INFO's
    /// `tcpi_unacked`): the peer's kernel will acknowledge them, at once or when its
    /// delayed-ACK timer fires.
    pub(super) fn ack_due(&self) -> bool {
        let record = self.registry().get(self.id);
        if self.proto != Proto::Tcp || record.listening || record.dialling.is_some() {
            return false; // a listener's field counts its accept queue, a SYN_SENT one its SYN
        }
        sys::tcp_info(self.borrowed_fd()).is_ok_and(|info| info.unacked_segments > 0)
    }

    /// For a TCP socket whose peer is in this lab: waits (bounded) until the peer has
    /// acknowledged every byte that was transmitted, so a send-queue figure does not depend on
    /// when the peer's delayed ACK went out. No fd event says "acknowledged": paused looks.
    pub(crate) fn settle_acks(&self) {
        let Some(peer) = self.in_process_peer() else {
            return;
        };
        if !self.registry().get(peer).is_open() {
            return; // a closed peer may never acknowledge anything again
        }
        let _ = wait::until(&[], wait::EXPECTED, || Ok(!self.ack_due()));
    }

    /// For a TCP socket: waits (bounded) until the bytes its kernel holds back and will send
    /// by itself have gone out (Nagle holds a small segment until the peer's ACK, which may
    /// wait for the peer's delayed-ACK timer; a window too small for a full segment is filled
    /// by the window-probe timer), so a figure of what went on the wire does not depend on
    /// when that ACK came. Bytes waiting for room in the peer's receive window stay.
    pub(crate) fn settle_sends(&self) {
        let holding = || -> io::Result<bool> {
            let info = sys::tcp_info(self.borrowed_fd())?;
            let window = info.send_window.is_some_and(|w| w > 0);
            Ok(info.not_sent > 0 && (info.unacked_segments > 0 || window))
        };
        if self.proto == Proto::Tcp && !self.registry().get(self.id).listening {
            let _ = wait::until(&[], wait::EXPECTED, || Ok(!holding()?));
        }
    }

    /// Waits (bounded) until everything in-process peers sent to this socket is in its
    /// receive queue: data (also data a peer's kernel holds back until this socket's ACK),
    /// FIN, RST, datagrams, ICMP errors.
    pub(crate) fn settle(&self) {
        self.settled();
    }

    fn settled(&self) -> Due {
        let mut due = self.due();
        if due == Due::InFlight {
            let fd = self.borrowed_fd();
            let events = Ready::IN | Ready::RDHUP;
            let _ = wait::until(&[(fd, events)], wait::EXPECTED, || {
                due = self.due();
                Ok(due != Due::InFlight)
            });
        }
        due
    }

    pub(super) fn due(&self) -> Due {
        if self.proto == Proto::Udp {
            self.datagram_due()
        } else {
            self.stream_due()
        }
    }

    fn datagram_due(&self) -> Due {
        let me = self.registry().get(self.id);
        if me.datagrams_expected <= me.datagrams_received && !me.icmp_error_due {
            return Due::Nothing;
        }
        // A datagram shows as POLLIN, an ICMP error as POLLERR (always reported).
        match sys::poll(self.borrowed_fd(), Ready::IN, Duration::ZERO) {
            Ok(events) if !events.is_empty() => Due::Arrived,
            _ => Due::InFlight,
        }
    }

    fn stream_due(&self) -> Due {
        let Some(peer_id) = self.in_process_peer() else {
            return Due::Nothing;
        };
        let fd = self.borrowed_fd();
        let (me, peer) = (self.registry().get(self.id), self.registry().get(peer_id));
        // The peer's send queue in one TCP_INFO snapshot, taken under the socket's lock: an
        // ACK that lets the kernel transmit held bytes is wholly before it or wholly after.
        let (not_sent, sends_by_itself) = match (peer.proto, peer.socket()) {
            (Proto::Tcp, Some(socket)) => sys::tcp_info(socket.as_fd()).map_or((0, false), |i| {
                let window = i.send_window.is_some_and(|w| w > 0);
                (u64::from(i.not_sent), i.unacked_segments > 0 || window)
            }),
            _ => (0, false),
        };
        let transmitted = peer.sent.saturating_sub(not_sent);
        let queued = sys::recv_queue(fd).unwrap_or(0) as u64;
        let events =
            sys::poll(fd, Ready::RDHUP | Ready::IN, Duration::ZERO).unwrap_or(Ready::empty());
        let hung_up = events.intersects(Ready::RDHUP | Ready::HUP | Ready::ERR);
        let errored = events.intersects(Ready::ERR | Ready::HUP);

        let on_the_wire = me.received + queued < transmitted;
        // Bytes the peer's kernel holds back are on their way when this socket's ACK will let
        // them go (Nagle holds a small segment while an earlier one is unacknowledged; the ACK
        // comes at once or when the delayed-ACK timer fires, 40 to 200 ms), when the window
        // this socket offered has room for them (the window-probe timer sends into a window
        // too small for a full segment), or when this socket's receive queue is empty, so its
        // window is open (the update that its last read sent is on its way). Otherwise the
        // peer waits for room in this socket's receive window, which only this program's
        // reading makes: they are not on their way, and neither is a FIN queued behind them.
        let held = not_sent > 0 && (sends_by_itself || queued == 0);
        let waiting_for_room = not_sent > 0 && !held;
        let fin_coming = peer.fin_sent && !waiting_for_room && !hung_up;
        let reset_coming = peer.reset_sent && !errored;
        if on_the_wire || held || fin_coming || reset_coming {
            Due::InFlight
        } else if transmitted > me.received || peer.fin_sent || peer.reset_sent {
            Due::Arrived
        } else {
            Due::Nothing
        }
    }

    /// Polls for `events` up to `limit`; true when ready (or an error/hang-up is pending,
    /// which the next call will report as Python would).
    pub(super) fn wait_ready(&self, events: Ready, limit: Duration) -> io::Result<bool> {
        let got = sys::poll(self.borrowed_fd(), events, limit)?;
        Ok(!got.is_empty())
    }

    /// A zero-timeout poll: the kernel's answer whether a call would go on now.
    pub(super) fn ready_now(&self, events: Ready) -> io::Result<bool> {
        self.wait_ready(events, Duration::ZERO)
    }

    fn ready_now_or(&self, events: Ready, why: Blocked) -> io::Result<Wait> {
        Ok(if self.ready_now(events)? {
            Wait::Ready
        } else {
            Wait::Blocked(why)
        })
    }

    /// Watches on a clock: ready within `limit`, or blocked after it.
    fn watch(&self, events: Ready, limit: Duration) -> io::Result<Wait> {
        Ok(if self.wait_ready(events, limit)? {
            Wait::Ready
        } else {
            Wait::Blocked(Blocked::Watched(limit))
        })
    }
}
