//! Waiting for a program outside this process. The kernel cannot say when a program netlab
//! does not run will act, so here (and only here) netlab waits on a clock: up to a declared
//! limit, in `poll` on the socket and on Ctrl-C's stop request at once, so a wait ends as soon
//! as the peer acts, the limit passes or the user stops `netlab serve`.

use std::io;
use std::os::fd::BorrowedFd;
use std::time::Duration;

use crate::cleanup::Stop;
use crate::event::Text;
use crate::sys;

/// How netlab waits for the peer.
#[derive(Clone, Copy)]
pub(crate) struct Outside {
    /// The longest netlab waits for the peer at any one point of a conversation.
    limit: Duration,
    /// Ctrl-C's stop request, watched while waiting (`serve` only).
    stop: Option<&'static Stop>,
}

/// What a wait ended with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Waited {
    /// The socket is readable: data, a new connection, FIN or RST.
    Ready,
    /// The limit passed first.
    TimedOut,
    /// Ctrl-C asked `serve` to stop.
    Stopped,
}

/// How long netlab watches, after a whole reply, for bytes a program outside netlab sends
/// right behind it (more than it announced). The kernel cannot say whether such a program
/// will send more, so this is a declared watch on a clock; 200 ms is far longer than
/// loopback needs for bytes already written.
pub(crate) const AFTER_REPLY: Duration = Duration::from_millis(200);

/// The longest single `poll` of an unbounded wait; the wait goes on after it.
const SLICE: Duration = Duration::from_secs(3600);

impl Outside {
    pub(crate) fn new(limit: Duration, stop: Option<&'static Stop>) -> Outside {
        Outside { limit, stop }
    }

    pub(crate) fn limit(&self) -> Duration {
        self.limit
    }

    /// The limit as the trace writes it: `30 s`, `500 ms`.
    pub(crate) fn shown_limit(&self) -> Text {
        Self::show(self.limit)
    }

    /// A wait as the trace writes it.
    pub(crate) fn show(wait: Duration) -> Text {
        let ms = wait.as_millis();
        if ms % 1000 == 0 {
            Text::same(format!("{} s", ms / 1000))
        } else {
            Text::same(format!("{ms} ms"))
        }
    }

    /// Whether Ctrl-C asked to stop.
    pub(crate) fn stop_requested(&self) -> bool {
        self.stop.is_some_and(Stop::requested)
    }

    /// Waits until `fd` is readable, at most the declared limit.
    pub(crate) fn readable(&self, fd: BorrowedFd<'_>) -> io::Result<Waited> {
        self.readable_within(fd, Some(self.limit))
    }

    /// Waits until `fd` is readable, at most `limit`; None: until it is, or until Ctrl-C
    /// (a server waiting for its next client, which is what a server does).
    pub(crate) fn readable_within(
        &self,
        fd: BorrowedFd<'_>,
        limit: Option<Duration>,
    ) -> io::Result<Waited> {
        loop {
            if self.stop_requested() {
                return Ok(Waited::Stopped);
            }
            let slice = limit.unwrap_or(SLICE);
            let stop = self.stop.map(Stop::fd);
            let [ready, stopped] = sys::poll_readable(&[Some(fd), stop], slice)?;
            if stopped || self.stop_requested() {
                return Ok(Waited::Stopped);
            }
            if ready {
                return Ok(Waited::Ready);
            }
            if limit.is_some() {
                return Ok(Waited::TimedOut);
            }
        }
    }
}
