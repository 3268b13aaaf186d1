//! netlab's UDP socket in peer mode: the server's bound socket, or the client's that sends to
//! the student's server. No connection tells netlab whether the peer exists, so a read waits
//! (bounded) and a silence is all it can report.

use std::io;

use super::context::Context;
use super::diagnosis::Diagnosis;
use super::frames;
use super::outside::Waited;
use super::{Ended, PeerResult, Role};
use crate::event::Outcome;
use crate::sock::{Addr, Side, Sock};
use crate::trace::Trace;

pub struct Datagrams {
    cx: Context,
    sock: Sock,
    /// The student's server (`connect`); None when netlab is the server.
    server: Option<Addr>,
    /// Which request netlab's server is answering (1 for the first).
    turn: u32,
}

impl Datagrams {
    pub(crate) fn new(cx: Context, sock: Sock, server: Option<Addr>) -> Datagrams {
        Datagrams {
            cx,
            sock,
            server,
            turn: 1,
        }
    }

    /// Whether this is the first request of the session (`serve`), where notes explain what
    /// later requests repeat; always true for `connect`.
    pub fn first(&self) -> bool {
        self.turn == 1
    }

    pub(crate) fn set_turn(&mut self, turn: u32) {
        self.turn = turn;
    }

    /// netlab's UDP socket.
    pub fn sock(&self) -> &Sock {
        &self.sock
    }

    pub fn side(&self) -> &Side {
        self.sock.side()
    }

    pub fn trace(&self) -> &Trace {
        &self.cx.trace
    }

    pub fn role(&self) -> Role {
        self.cx.role
    }

    pub fn note(&self, en: impl Into<String>, zh: impl Into<String>) {
        self.cx.note(en, zh);
    }

    /// The student's server's address (`connect`), or netlab's own (`serve`).
    pub fn server(&self) -> io::Result<Addr> {
        match &self.server {
            Some(addr) => Ok(addr.clone()),
            None => self.sock.local_addr(),
        }
    }

    /// Records a diagnosis; the program goes on.
    pub fn report(&self, diagnosis: Diagnosis) {
        self.cx.report(&diagnosis);
    }

    pub fn fail(&self, diagnosis: Diagnosis) -> Ended {
        self.cx.fail(diagnosis)
    }

    /// `sock.sendto(data, addr)`
    pub fn sendto(&self, data: &[u8], addr: &Addr) -> PeerResult<usize> {
        Ok(self.sock.sendto(data, addr)?)
    }

    /// `data, addr = sock.recvfrom(bufsize)`, waiting (bounded) for a datagram. The receive
    /// queue shows the next datagram's size first, so a datagram longer than `bufsize` is
    /// diagnosed as cut. Nothing within the wait: no reply (`connect`).
    pub fn recvfrom(&mut self, bufsize: usize) -> PeerResult<(Vec<u8>, Addr)> {
        let call = format!(
            "data, addr = {}",
            self.sock.call(format_args!("recvfrom({bufsize})"))
        );
        self.cx.trace.recorder().begin();
        match self.cx.outside.readable(self.sock.borrowed_fd())? {
            Waited::Ready => {}
            Waited::Stopped => return Err(Ended::Stopped),
            Waited::TimedOut => {
                let shown = self.cx.outside.shown_limit();
                self.side()
                    .record(call, Outcome::Blocked(frames::blocks_for(&shown)));
                return Err(self.fail(match self.cx.role {
                    Role::Connect => Diagnosis::NoReply,
                    Role::Serve => Diagnosis::Silent,
                }));
            }
        }
        let next = self.cx.trace.kernel().recv_queue(&self.sock)?;
        let (data, from) = self.sock.recvfrom(bufsize)?;
        if next > bufsize {
            self.report(Diagnosis::DatagramCut {
                len: next,
                kept: bufsize,
            });
        }
        Ok((data, from))
    }

    /// Compares a reply with the one the lab's server sends; another one is diagnosed.
    pub fn expect_reply(&self, got: &[u8], expected: &[u8]) -> PeerResult {
        if got == expected {
            Ok(())
        } else {
            Err(self.fail(Diagnosis::UnexpectedReply {
                expected: expected.to_vec(),
                got: got.to_vec(),
            }))
        }
    }

    pub(crate) fn close(self) {
        self.sock.close();
    }
}
