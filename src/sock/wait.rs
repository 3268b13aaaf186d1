//! How netlab waits, declared here once, and why a call was shown blocked.
//!
//! A call that would block is shown blocked on the kernel's evidence, never after a clock ran
//! out: nothing is on its way to the socket (every byte, FIN, RST, datagram, ICMP error and
//! handshake that the lab's own sockets set off has arrived, see `settle.rs`) and a
//! non-blocking attempt or a zero-timeout poll answers "not ready". Because the lab is one
//! orchestrator, no program of the lab acts while a call waits, so that state cannot change by
//! itself: the course's program would wait forever.
//!
//! Clocks remain only as bounds, each where the kernel cannot answer at once:
//! - [`EXPECTED`] bounds a wait for something the kernel shows is on its way. It ends on the
//!   kernel state that the wait is for, normally in microseconds on loopback. Where a kernel
//!   timer has to run first it ends when that timer fires: a delayed ACK (a segment Nagle
//!   holds back until the peer's ACK, a send buffer that has room once the peer acknowledges)
//!   fires after 40 ms (TCP_DELACK_MIN) and at most 200 ms (TCP_DELACK_MAX, include/net/tcp.h)
//!   on an idle machine; the bound is ten times that, for a loaded one. A call whose
//!   expected event did not come within it is shown blocked with the time it was watched
//!   ([`Blocked::Watched`]); on a working kernel that does not happen.
//! - [`EXTERNAL`] watches a peer outside this process (a student's program in peer mode),
//!   which may act at any time: the kernel cannot say whether it will send, connect or read.
//! - Two cases of a lab's own sockets are watched for [`EXPECTED`] on a clock, because a
//!   kernel timer decides them and no lab meets them: `accept()` while a client of the lab
//!   is still dialling (its SYN was dropped; its retry timer fires 1 s after the first SYN,
//!   then later), and a UDP send that found its send buffer full (it empties as datagrams
//!   are delivered).
//! - A `select()` (see `select.rs`) that found nothing ready among sockets a peer outside
//!   this process may make ready waits its own timeout, or [`EXTERNAL`] without one; among the
//!   lab's own sockets an empty answer after settling is the kernel's evidence, and it waits
//!   for nothing.
//! - Outside this module: a command a lab runs gets 2 s (`commands::TIME_LIMIT`), the
//!   kernel's netlink answer about its TCP table 2 s (`sockdiag`); both answer at once.

use std::io;
use std::os::fd::BorrowedFd;
use std::time::{Duration, Instant};

use crate::sys::{self, Ready};

/// The longest netlab waits for something the kernel shows is on its way (data a peer in this
/// lab already sent, a segment held back until an ACK, an ACK that a delayed-ACK timer sends,
/// a handshake with a listener that has room). See the module documentation.
pub const EXPECTED: Duration = Duration::from_secs(2);

/// How long a call waits for a peer outside this process (a student's program): the kernel
/// cannot tell whether that program will still send, connect or read, so this is a watch on
/// a clock, and a call still not ready after it is shown blocked with this time.
pub const EXTERNAL: Duration = Duration::from_secs(30);

/// Why a call was shown blocked. Carried inside the `io::Error` (kind `WouldBlock`) that the
/// call returns, so the line it records can say what the evidence was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Blocked {
    /// A stream socket: nothing waits in its receive queue and nothing is on its way.
    #[error("the call would block: nothing is on its way")]
    NoData,
    /// A datagram socket: no datagram waits and no socket of the lab sent it one more.
    #[error("the call would block: no datagram is on its way")]
    NoDatagram,
    /// A listener: its accept queue is empty and no client of the lab is dialling it.
    #[error("the call would block: no connection is on its way")]
    NoConnection,
    /// `connect()`: the listener's accept queue is over its limit, so its kernel drops the SYN.
    #[error("the call would block: the listener drops the SYN")]
    SynDropped,
    /// `select()`: none of the sockets it watches is ready, and nothing is on its way to any.
    #[error("the call would block: no socket it watches is ready")]
    NothingReady,
    /// A send: the send buffer is full, and only the peer program's reading would make room.
    #[error("the call would block: the send buffer is full")]
    BufferFull,
    /// The kernel could not answer (a peer outside this process), or what it showed on its
    /// way did not come: netlab watched for this long.
    #[error("the call would block: still waiting after {} ms", .0.as_millis())]
    Watched(Duration),
}

/// Pauses between two looks at kernel state that has no fd event of its own (an ACK changing
/// SIOCOUTQ, a TIME_WAIT entry appearing in the TCP table): each pause is a poll(2) on the fds
/// whose events the wait is for, so those wake it at once, and the pauses grow from
/// [`Pause::FIRST`] to [`Pause::LONGEST`]: a state that comes in microseconds costs
/// microseconds, and one that waits for a delayed-ACK timer (40 ms) costs about fifty looks.
pub(crate) struct Pause {
    next: Duration,
}

impl Pause {
    const FIRST: Duration = Duration::from_micros(20);
    const LONGEST: Duration = Duration::from_millis(1);

    pub(crate) fn new() -> Pause {
        Pause { next: Self::FIRST }
    }

    /// Waits for one pause, or less when one of `watch`'s fds reports one of its events. An
    /// event already pending is level-triggered and would end every pause at once, so the
    /// caller passes only events that are not yet pending (see [`until`]).
    pub(crate) fn wait(&mut self, watch: &[(BorrowedFd<'_>, Ready)]) -> io::Result<Vec<Ready>> {
        let got = sys::poll_each(watch, self.next)?;
        self.next = (self.next * 2).min(Self::LONGEST);
        Ok(got)
    }
}

/// Looks at `done` until it holds (true) or `bound` has passed (false), pausing between looks
/// (see [`Pause`]) on `watch`, whose events wake the wait at once. An fd that reports an event
/// while `done` still does not hold stops being watched (poll(2) is level-triggered, and an
/// error or hang-up is reported whatever was asked), so the pauses keep their length.
pub(crate) fn until(
    watch: &[(BorrowedFd<'_>, Ready)],
    bound: Duration,
    mut done: impl FnMut() -> io::Result<bool>,
) -> io::Result<bool> {
    let deadline = Instant::now() + bound;
    let mut watch: Vec<(BorrowedFd<'_>, Ready)> = watch.to_vec();
    let mut pause = Pause::new();
    loop {
        if done()? {
            return Ok(true);
        }
        if Instant::now() >= deadline {
            return Ok(false);
        }
        let got = pause.wait(&watch)?;
        let mut fired = got.iter().map(|events| !events.is_empty());
        watch.retain(|_| !fired.next().unwrap_or(false));
    }
}
