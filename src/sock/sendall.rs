//! A `sendall()` that blocks while the peer does not read, and finishes once it does: the
//! lab is one orchestrator, so the blocked call is kept in progress while the peer acts.

use std::io;
use std::time::{Duration, Instant};

use super::settle::{Due, Senders};
use super::wait::{self, Blocked, Pause};
use super::{blocked_error, Sock, PREVIEW_BYTES};
use crate::event::{ByteFacts, Count, Outcome};
use crate::phrases;
use crate::pyrepr;
use rustix::net::RecvFlags;

use crate::sys::{self, Ready};

impl Sock {
    /// `sendall(data)` on a blocking socket whose peer may not be reading yet, as a call that
    /// can stay in progress while the lab lets the peer act (the lab is one orchestrator, so
    /// the peer cannot read while this call waits).
    ///
    /// Like [`Sock::sendall`], it hands the kernel bytes whenever the send buffer has room,
    /// and blocks when the buffer is full and no room is on its way (see
    /// [`Sock::room_coming`]). If everything went in, it records the
    /// usual `None (n bytes sent)` line and returns a finished [`SendAll`]. Otherwise it
    /// records one line saying the call blocked and how many bytes the kernel took so far,
    /// and returns the call still in progress: the peer's [`Sock::recv_waitall`] keeps it
    /// going while it reads (as the blocked Python call would go on), and
    /// [`SendAll::finish`] records the line where it returns. The figure that
    /// `Trace::named` names is the bytes taken so far.
    pub fn sendall_start<'a>(&'a self, data: &'a [u8]) -> io::Result<SendAll<'a>> {
        self.side.begin();
        let call = self.call(format_args!(
            "sendall({})",
            pyrepr::bytes_preview(data, PREVIEW_BYTES)
        ));
        let mut sending = SendAll {
            sock: self,
            data,
            taken: 0,
            call,
            blocked_at: None,
            blocked_because: Blocked::BufferFull,
        };
        if !self.blocking {
            // Python's sendall on a non-blocking socket raises once the buffer is full.
            self.send_inner(sending.call.clone(), data, true)?;
            sending.taken = data.len();
            return Ok(sending);
        }
        if sending.run()? {
            let shown = self.recorder().figure(data.len());
            self.returned(sending.call.clone(), phrases::sendall_returned(&shown));
            self.side.facts(|f| {
                f.value = Some("None".into());
                f.bytes = Some(ByteFacts::new(Count::shown(&shown), None));
            });
        } else {
            let taken = self.recorder().figure(sending.taken);
            let text = phrases::sendall_blocks(&taken);
            self.record(sending.call.clone(), Outcome::Blocked(text));
            self.side
                .facts(|f| f.bytes = Some(taken_of(&taken, data.len())));
            sending.blocked_at = Some(self.recorder().last_seq());
        }
        Ok(sending)
    }

    /// `data = var.recv(n, MSG_WAITALL)`: waits until all `n` bytes arrived (or the
    /// peer closed), where a plain recv returns what is there. While it waits, a `sendall`
    /// of this lab that is still in progress ([`Sock::sendall_start`]) goes on, as the
    /// sending program would, blocked in its own call: each time this reader empties its
    /// receive queue, the sender's kernel can transmit more and the sendall hands it more.
    /// The engine reads with plain non-blocking recvs in a loop; the kernel's own
    /// MSG_WAITALL loops the same way. It blocks when neither side can move and nothing is
    /// on its way: no data or FIN to this socket, no ACK to the sending side.
    pub fn recv_waitall(
        &self,
        n: usize,
        mut meanwhile: Option<&mut SendAll<'_>>,
    ) -> io::Result<Vec<u8>> {
        self.side.begin();
        let call = format!(
            "data = {}",
            self.call(format_args!("recv({n}, MSG_WAITALL)"))
        );
        if !self.blocking {
            // On a non-blocking socket MSG_WAITALL changes nothing: one plain recv.
            return self.recv_as(call, n);
        }
        let mut data = self.recv_buffer(&call, n)?;
        let mut last_progress = Instant::now();
        let mut pause = Pause::new();
        while data.len() < n {
            let mut progress = match meanwhile.as_deref_mut() {
                Some(sending) => sending.push()?,
                None => false,
            };
            match sys::recv_append(self.borrowed_fd(), &mut data, RecvFlags::empty()) {
                Ok(0) => break, // the peer closed: MSG_WAITALL returns what it has
                Ok(k) => {
                    self.count_received(k);
                    progress = true;
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                Err(err) => return Err(self.raise(call, err)),
            }
            if progress {
                last_progress = Instant::now();
                pause = Pause::new();
                continue;
            }
            // Neither side moved. Something on its way (data or a FIN to this socket, or an
            // ACK that gives the sending side room) is waited for, bounded; with nothing on
            // its way, the recv blocks, on the kernel's evidence for a peer of this lab.
            let sender = meanwhile
                .as_deref()
                .filter(|s| !s.is_done())
                .map(|s| s.sock);
            let coming = self.due() == Due::InFlight || sender.is_some_and(Sock::ack_due);
            let limit = match (coming, self.senders()) {
                (true, _) => wait::EXPECTED,
                (false, Senders::InLab) if !self.ready_now(Ready::IN | Ready::RDHUP)? => {
                    let shown = self.recorder().figure(data.len());
                    let text = phrases::waitall_blocks(&shown, n);
                    return Err(self.blocked(call, text, Blocked::NoData));
                }
                (false, Senders::InLab) => continue,
                (false, Senders::Outside) => wait::EXTERNAL,
            };
            if last_progress.elapsed() >= limit {
                let shown = self.recorder().figure(data.len());
                let text = phrases::waitall_watched(&shown, n, limit.as_millis());
                let err = self.blocked(call, text, Blocked::Watched(limit));
                self.side.facts(|f| f.bytes = Some(taken_of(&shown, n)));
                return Err(err);
            }
            let mut watch = vec![(self.borrowed_fd(), Ready::IN | Ready::RDHUP)];
            watch.extend(sender.map(|s| (s.borrowed_fd(), Ready::OUT)));
            pause.wait(&watch)?;
        }
        self.returned_bytes(call, &data);
        Ok(data)
    }
}

/// A `sendall()` in progress: started by [`Sock::sendall_start`], it blocked because the send
/// buffer was full and the peer was not reading. The peer's [`Sock::recv_waitall`] keeps it
/// going; [`SendAll::finish`] records where it returns. Dropped without `finish`, it records
/// nothing more (the Python program would still be inside sendall).
pub struct SendAll<'a> {
    sock: &'a Sock,
    data: &'a [u8],
    taken: usize,
    call: String,
    /// The trace line that showed the call blocked; None when it never blocked.
    blocked_at: Option<u32>,
    /// Why it blocked the last time it did.
    blocked_because: Blocked,
}

impl SendAll<'_> {
    /// Bytes of the data the kernel has taken so far.
    pub fn taken(&self) -> usize {
        self.taken
    }

    pub fn is_done(&self) -> bool {
        self.taken == self.data.len()
    }

    /// Hands the kernel as much as its send buffer takes now, without waiting and without
    /// recording (the Python call is still inside sendall). Returns whether it took anything.
    fn push(&mut self) -> io::Result<bool> {
        let before = self.taken;
        while !self.is_done() {
            match self.sock.socket.send(&self.data[self.taken..]) {
                Ok(n) => {
                    self.taken += n;
                    self.sock.count_sent(n);
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
                Err(err) => return Err(self.sock.raise(self.call.clone(), err)),
            }
        }
        Ok(self.taken > before)
    }

    /// Pushes whenever the buffer has room until done (true) or until the buffer is full and
    /// no room is on its way (false; see [`Sock::room_coming`]).
    fn run(&mut self) -> io::Result<bool> {
        loop {
            self.push()?;
            if self.is_done() {
                return Ok(true);
            }
            if let Err(why) = self.sock.room_coming()? {
                self.blocked_because = why;
                return Ok(false);
            }
        }
    }

    /// Lets the call run to its end and records the line where `sendall` returns:
    /// `None (n bytes sent)`, n being a figure `Trace::named` can name. If the buffer is
    /// full again with no room on its way (the peer still does not read), records that it is
    /// still blocked and returns `Err(WouldBlock)`. A call that never blocked was recorded
    /// by [`Sock::sendall_start`] already and records nothing here.
    pub fn finish(mut self) -> io::Result<usize> {
        self.sock.side.begin();
        let Some(line) = self.blocked_at else {
            return Ok(self.taken);
        };
        let done = self.run()?;
        let sock = self.sock;
        let call = phrases::continued_from(&self.call, line);
        let shown = sock.recorder().figure(self.taken);
        let outcome = if done {
            Outcome::Returned(phrases::sendall_returned(&shown))
        } else {
            Outcome::Blocked(phrases::sendall_still_blocks(&shown))
        };
        sock.side.record_text(call, outcome);
        sock.identify();
        let python = self.call.clone();
        sock.side.facts(|f| {
            f.python = Some(python);
            f.continues = Some(line);
            if done {
                f.value = Some("None".into());
                f.bytes = Some(ByteFacts::new(Count::shown(&shown), None));
            } else {
                f.bytes = Some(taken_of(&shown, self.data.len()));
            }
        });
        if done {
            Ok(self.taken)
        } else {
            Err(blocked_error(self.blocked_because))
        }
    }
}

/// `count` bytes (a figure as shown) of `of`: how far a blocked call got.
fn taken_of(count: &str, of: usize) -> ByteFacts {
    let mut bytes = ByteFacts::new(Count::shown(count), None);
    bytes.of = Some(of as u64);
    bytes
}

/// How a [`Sock::sendall_watched`] ended when it did not raise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Watched {
    /// Every byte was handed to the kernel; the line says `None (n bytes sent)`.
    Sent,
    /// The send buffer stayed full for the whole limit: the peer is not reading. The line
    /// shows the call blocked, with the bytes taken so far.
    Blocked { taken: usize },
    /// `give_up` said to stop first (Ctrl-C in `netlab serve`); nothing more was recorded.
    GaveUp,
}

impl Sock {
    /// `sendall(data)` to a program outside netlab (peer mode), which reads at its own pace:
    /// hands the kernel bytes whenever the send buffer has room, and gives up only when no
    /// room came for `limit` in a row (the peer stopped reading) or when `give_up` says so
    /// (checked at least every 100 ms). A slow reader that keeps reading is waited for.
    pub fn sendall_watched(
        &self,
        data: &[u8],
        limit: Duration,
        give_up: &dyn Fn() -> bool,
    ) -> io::Result<Watched> {
        self.side.begin();
        let call = self.call(format_args!(
            "sendall({})",
            pyrepr::bytes_preview(data, PREVIEW_BYTES)
        ));
        let mut sending = SendAll {
            sock: self,
            data,
            taken: 0,
            call,
            blocked_at: None,
            blocked_because: Blocked::BufferFull,
        };
        let mut last_progress = Instant::now();
        loop {
            if sending.push()? {
                last_progress = Instant::now();
            }
            if sending.is_done() {
                let shown = self.recorder().figure(data.len());
                self.returned(sending.call.clone(), phrases::sendall_returned(&shown));
                self.side.facts(|f| {
                    f.value = Some("None".into());
                    f.bytes = Some(ByteFacts::new(Count::shown(&shown), None));
                });
                return Ok(Watched::Sent);
            }
            if give_up() {
                return Ok(Watched::GaveUp);
            }
            let Some(left) = limit.checked_sub(last_progress.elapsed()) else {
                let taken = self.recorder().figure(sending.taken);
                self.side.record(
                    sending.call.clone(),
                    Outcome::Blocked(phrases::sendall_blocks(&taken)),
                );
                self.side
                    .facts(|f| f.bytes = Some(taken_of(&taken, data.len())));
                return Ok(Watched::Blocked {
                    taken: sending.taken,
                });
            };
            self.wait_ready(Ready::OUT, left.min(Duration::from_millis(100)))?;
        }
    }
}
