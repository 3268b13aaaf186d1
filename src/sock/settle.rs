//! Waiting on the kernel, never on the clock: before a socket reads or is probed, netlab waits
//! (bounded) until everything in-process peers already sent has arrived, and decides how long a
//! call that would block is watched.

use std::io;
use std::time::{Duration, Instant};

use super::{blocked_error, wait, Addr, Proto, Sock};
use crate::sys;

impl Sock {
    /// How long to watch a call that nothing is known to be on its way for: short when the
    /// peer is in this lab (nothing is coming), long when it is a student's program.
    pub(super) fn idle_wait(&self) -> Duration {
        if self.in_process_peer().is_some()
            || self.trace().state().sockets[self.id].listening
            || self.udp_in_lab()
        {
            wait::BLOCKED
        } else {
            wait::EXTERNAL
        }
    }

    pub(super) fn in_process_peer(&self) -> Option<usize> {
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
    pub(super) fn udp_in_lab(&self) -> bool {
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
    pub(super) fn has_unaccepted_peer(&self) -> bool {
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

    pub(super) fn due(&self) -> Due {
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
    pub(super) fn wait_ready(&self, events: libc::c_short, limit: Duration) -> io::Result<bool> {
        let got = sys::poll(self.fd(), events, limit)?;
        Ok(got != 0)
    }
}

pub(super) enum Due {
    Nothing,
    InFlight,
    Arrived,
}
