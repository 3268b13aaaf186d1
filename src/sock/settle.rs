//! Waiting on the kernel, never on the clock: before a socket reads or is probed, netlab waits
//! (bounded) until everything in-process peers already sent has arrived, and decides how long a
//! call that would block is watched.

use std::io;
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use super::addr::{Addr, Proto};
use super::registry::SockId;
use super::{blocked_error, wait, Sock};
use crate::sys::{self, Ready};

impl Sock {
    /// How long to watch a call that nothing is known to be on its way for: short when the
    /// peer is in this lab (nothing is coming), long when it is a student's program.
    pub(super) fn idle_wait(&self) -> Duration {
        if self.in_process_peer().is_some()
            || self.registry().get(self.id).listening
            || self.udp_in_lab()
        {
            wait::BLOCKED
        } else {
            wait::EXTERNAL
        }
    }

    pub(super) fn in_process_peer(&self) -> Option<SockId> {
        let sockets = self.registry().all();
        let me = &sockets[self.id];
        let (local, peer) = (me.local.as_ref()?, me.peer.as_ref()?);
        if *peer == Addr::Unnamed || *local == Addr::Unnamed {
            // AF_UNIX client ends have no name: match by the listener path and the pairing
            // order is ambiguous, so only treat a unique candidate as the peer.
            let candidates: Vec<SockId> = sockets
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
        sockets.iter().enumerate().position(|(i, r)| {
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

    /// A listener with a connected in-process client that has not been accepted yet.
    pub(super) fn has_unaccepted_peer(&self) -> bool {
        let sockets = self.registry().all();
        let Some(local) = sockets[self.id].local.clone() else {
            return false;
        };
        let clients: Vec<&Addr> = sockets
            .iter()
            .filter(|r| !r.listening && r.peer.as_ref() == Some(&local) && r.is_open())
            .filter_map(|r| r.local.as_ref())
            .collect();
        clients.iter().any(|client| {
            !sockets
                .iter()
                .any(|r| r.local.as_ref() == Some(&local) && r.peer.as_ref() == Some(client))
        })
    }

    /// Waits until what in-process peers already sent has arrived, then until the socket is
    /// readable: `Ok` to read now, `Err(WouldBlock)` when Python would still be blocked.
    pub(super) fn wait_readable(&self) -> io::Result<()> {
        let expecting = self.settle();
        if !self.blocking {
            return Ok(()); // the read itself raises BlockingIOError if nothing is there
        }
        let limit = if expecting {
            wait::EXPECTED
        } else {
            self.idle_wait()
        };
        if self.wait_ready(Ready::IN | Ready::RDHUP, limit)? {
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
        if !self.registry().get(peer).is_open() {
            return; // a closed peer may never acknowledge anything again
        }
        let fd = self.borrowed_fd();
        let deadline = Instant::now() + wait::EXPECTED;
        while Instant::now() < deadline {
            match (sys::send_queue(fd), sys::unsent(fd)) {
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
            match self.due() {
                Due::Nothing => return false,
                Due::Arrived => return true,
                Due::InFlight if Instant::now() >= deadline => return true,
                Due::InFlight => std::thread::sleep(Duration::from_millis(1)),
            }
        }
    }

    pub(super) fn due(&self) -> Due {
        let fd = self.borrowed_fd();
        if self.proto == Proto::Udp {
            let me = self.registry().get(self.id);
            if me.datagrams_expected <= me.datagrams_received {
                return Due::Nothing;
            }
            return match sys::poll(fd, Ready::IN, Duration::ZERO) {
                Ok(ev) if !ev.is_empty() => Due::Arrived,
                _ => Due::InFlight,
            };
        }
        let Some(peer_id) = self.in_process_peer() else {
            return Due::Nothing;
        };
        let (me, peer) = (self.registry().get(self.id), self.registry().get(peer_id));
        let unsent = match (peer.proto, peer.socket()) {
            (Proto::Tcp, Some(socket)) => sys::unsent(socket.as_fd()).unwrap_or(0) as u64,
            _ => 0,
        };
        let transmitted = peer.sent.saturating_sub(unsent);
        let queued = sys::recv_queue(fd).unwrap_or(0) as u64;
        let events =
            sys::poll(fd, Ready::RDHUP | Ready::IN, Duration::ZERO).unwrap_or(Ready::empty());
        let hung_up = events.intersects(Ready::RDHUP | Ready::HUP | Ready::ERR);
        let errored = events.intersects(Ready::ERR | Ready::HUP);
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
    pub(super) fn wait_ready(&self, events: Ready, limit: Duration) -> io::Result<bool> {
        let got = sys::poll(self.borrowed_fd(), events, limit)?;
        Ok(!got.is_empty())
    }
}

pub(super) enum Due {
    Nothing,
    InFlight,
    Arrived,
}
