//! A `recv()` or `accept()` that blocks in one thread of a program while other threads (and
//! other programs) go on, and returns later: a threaded server's threads spend most of their
//! time like this.
//!
//! The lab is one orchestrator, so the blocked call is kept in progress: the line that shows
//! it blocked is recorded (on the kernel's evidence, as for any blocked call), the lab lets
//! other sides act, and `finish()` records the line where the call returns, `data =
//! conn.recv(1024) (continued from line 9)  -> b'...'`.

use std::io;

use super::addr::Addr;
use super::{is_blocked, Sock};

/// How a call that may block started.
enum Started<T> {
    /// It did not block: its line is recorded and this is what it returned.
    Returned(T),
    /// It was shown blocked on this line.
    Blocked(u32),
}

/// Starts a call that may block: `call` records its line and returns its value, or the
/// `WouldBlock` error of a call shown blocked.
fn start<T>(sock: &Sock, call: impl FnOnce() -> io::Result<T>) -> io::Result<Started<T>> {
    match call() {
        Ok(value) => Ok(Started::Returned(value)),
        Err(err) if is_blocked(&err) => Ok(Started::Blocked(sock.recorder().last_seq())),
        Err(err) => Err(err),
    }
}

/// A `data = var.recv(bufsize)` in progress (see [`Sock::recv_pending`]). Dropped without
/// `finish()`, it records nothing more: the thread would still be waiting.
pub struct PendingRecv<'a> {
    sock: &'a Sock,
    bufsize: usize,
    call: String,
    started: Started<Vec<u8>>,
}

/// A `conn, addr = var.accept()` in progress (see [`Sock::accept_pending`]). Dropped without
/// `finish()`, it records nothing more: the thread would still be waiting.
pub struct PendingAccept<'a> {
    sock: &'a Sock,
    conn_var: String,
    call: String,
    started: Started<(Sock, Addr)>,
}

impl Sock {
    /// `data = var.recv(bufsize)` in a thread that stays in the call while the lab lets
    /// others act. Records the line as [`Sock::recv`] does (blocked, if the kernel shows that
    /// nothing is on its way) and returns the call in progress; [`PendingRecv::finish`]
    /// records where it returns.
    pub fn recv_pending(&self, bufsize: usize) -> io::Result<PendingRecv<'_>> {
        self.side.begin();
        let call = format!("data = {}", self.call(format_args!("recv({bufsize})")));
        let started = start(self, || self.recv_at(call.clone(), None, bufsize))?;
        Ok(PendingRecv {
            sock: self,
            bufsize,
            call,
            started,
        })
    }

    /// `conn_var, addr = var.accept()` in a thread that stays in the call while the lab lets
    /// others act, like [`Sock::recv_pending`].
    pub fn accept_pending(&self, conn_var: &str) -> io::Result<PendingAccept<'_>> {
        self.side.begin();
        let call = format!("{conn_var}, addr = {}", self.call("accept()"));
        let started = start(self, || self.accept(conn_var))?;
        Ok(PendingAccept {
            sock: self,
            conn_var: conn_var.to_string(),
            call,
            started,
        })
    }
}

impl PendingRecv<'_> {
    /// Whether the call was shown blocked (and has not returned yet).
    pub fn is_blocked(&self) -> bool {
        matches!(self.started, Started::Blocked(_))
    }

    /// Lets the call go on now and records the line where it returns, or, if the kernel
    /// shows that still nothing is on its way, that it still blocks (`Err(WouldBlock)`). A
    /// call that never blocked was recorded already and records nothing here.
    pub fn finish(self) -> io::Result<Vec<u8>> {
        self.sock.side.begin();
        match self.started {
            Started::Returned(data) => Ok(data),
            Started::Blocked(line) => self.sock.recv_at(self.call, Some(line), self.bufsize),
        }
    }
}

impl PendingAccept<'_> {
    /// Whether the call was shown blocked (and has not returned yet).
    pub fn is_blocked(&self) -> bool {
        matches!(self.started, Started::Blocked(_))
    }

    /// Lets the call go on now, like [`PendingRecv::finish`].
    pub fn finish(self) -> io::Result<(Sock, Addr)> {
        let sock = self.sock;
        sock.side.begin();
        let line = match self.started {
            Started::Returned(accepted) => return Ok(accepted),
            Started::Blocked(line) => line,
        };
        if let super::settle::Wait::Blocked(why) = sock.wait_acceptable()? {
            return Err(sock.blocked_waiting_at(self.call, Some(line), why));
        }
        let accepted = sock.take_connection(&self.conn_var);
        sock.record_accepted(self.call, Some(line), "addr", accepted)
    }
}
