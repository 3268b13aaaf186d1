//! One TCP connection with a program outside netlab: netlab's end of it (`conn` when netlab
//! serves, the client's socket when it connects), whose reads wait for the peer, bounded and
//! watched together with Ctrl-C, and turn what the peer did wrong into diagnoses.

use std::cell::Cell;
use std::io;
use std::time::{Duration, Instant};

use super::context::Context;
use super::diagnosis::Diagnosis;
use super::frames::{self, Patient};
use super::outside::{Outside, Waited};
use super::{Ended, PeerResult, Role};
use crate::commands::{self, CommandError};
use crate::event::{Lang, Outcome};
use crate::framing::{self, Format, Frame, FrameDecoder, Piece, ReadError};
use crate::phrases;
use crate::program::Pack;
use crate::sock::sendall::Watched;
use crate::sock::{Addr, Side, Sock};
use crate::sys;
use crate::trace::Trace;

/// What a message-level recv heard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heard {
    /// Bytes (never empty).
    Data(Vec<u8>),
    /// `b''`: the peer closed its side (FIN).
    HungUp,
}

/// A connection with the peer, in a lab's peer-mode program.
pub struct Call {
    cx: Context,
    /// netlab's socket; taken only when the call ends (hang_up, or drop).
    conn: Option<Sock>,
    /// Whether the peer has sent anything on this connection yet.
    heard: Cell<bool>,
    /// Whether netlab has sent it anything yet.
    replied: Cell<bool>,
    /// Which of netlab's connections of the session this is, from 1: the client netlab
    /// accepted (`serve`), or the one it dialled (`connect`), in order.
    number: u32,
}

/// How many times the declared wait netlab gives a client between one request and the next
/// (`serve`): a person may be typing.
pub const IDLE_FACTOR: u32 = 10;

/// How often netlab looks at a client's receive queue while it waits for its next request.
const PEER_LOOK: Duration = Duration::from_millis(5);

impl Call {
    pub(crate) fn new(cx: Context, conn: Sock, number: u32) -> Call {
        Call {
            cx,
            conn: Some(conn),
            heard: Cell::new(false),
            replied: Cell::new(false),
            number,
        }
    }

    /// netlab's socket of this connection.
    pub fn conn(&self) -> &Sock {
        self.sock()
    }

    fn sock(&self) -> &Sock {
        self.conn.as_ref().expect(OPEN)
    }

    /// netlab's program (`server` or `client`), for steps that are not socket calls.
    pub fn side(&self) -> &Side {
        self.sock().side()
    }

    pub fn trace(&self) -> &Trace {
        &self.cx.trace
    }

    /// A note on the line just recorded.
    pub fn note(&self, en: impl Into<String>, zh: impl Into<String>) {
        self.cx.note(en, zh);
    }

    /// Whether netlab serves (the peer is a client) or connects (the peer is a server).
    pub fn role(&self) -> Role {
        self.cx.role
    }

    /// Records a diagnosis; the conversation goes on.
    pub fn report(&self, diagnosis: Diagnosis) {
        self.cx.report(&diagnosis);
    }

    /// Records a diagnosis that ends the conversation; return the result with `Err`.
    pub fn fail(&self, diagnosis: Diagnosis) -> Ended {
        self.cx.fail(diagnosis)
    }

    fn outside(&self) -> Outside {
        self.cx.outside
    }

    /// Waits for the peer before a read written as `call`, at most `limit`. If nothing
    /// comes, records the read as blocked and diagnoses `silence` (or, inside a message, a
    /// stall).
    fn await_peer(
        &self,
        call: String,
        progress: Option<(Piece, usize, usize)>,
        (limit, silence): (Duration, Diagnosis),
    ) -> PeerResult {
        self.cx.trace.recorder().begin();
        match self
            .outside()
            .readable_within(self.sock().borrowed_fd(), Some(limit))?
        {
            Waited::Ready => Ok(()),
            Waited::Stopped => Err(Ended::Stopped),
            Waited::TimedOut => Err(self.timed_out(call, limit, progress, silence)),
        }
    }

    /// Records a read that waited `limit` for nothing, and the diagnosis.
    fn timed_out(
        &self,
        call: String,
        limit: Duration,
        progress: Option<(Piece, usize, usize)>,
        silence: Diagnosis,
    ) -> Ended {
        let shown = Outside::show(limit);
        self.side()
            .record(call, Outcome::Blocked(frames::blocks_for(&shown)));
        self.fail(match progress {
            Some((piece, have, need)) => Diagnosis::Stalled { piece, have, need },
            None => silence,
        })
    }

    /// How long netlab waits for the peer's next message, and what a silence means: the first
    /// message (or a reply) within the declared limit; when netlab serves and the client has
    /// already talked, its next request is a person's pace, given [`IDLE_FACTOR`] times as
    /// long.
    fn next_message(&self) -> (Duration, Diagnosis) {
        let limit = self.outside().limit();
        if self.cx.role == Role::Serve && self.heard.get() {
            let idle = limit.saturating_mul(IDLE_FACTOR);
            (idle, Diagnosis::Idle { waited: idle })
        } else {
            (limit, Diagnosis::Silent)
        }
    }

    /// A failed call (already recorded as the exception Python raises) as a diagnosis when
    /// it says what the peer did: RST, or a closed end netlab was still sending to.
    pub(crate) fn went_wrong(
        &self,
        err: io::Error,
        progress: Option<(Piece, usize, usize)>,
    ) -> Ended {
        match err.raw_os_error() {
            Some(libc::ECONNRESET) => self.fail(Diagnosis::Reset { progress }),
            Some(libc::EPIPE) => self.fail(Diagnosis::ClosedWhileSending),
            _ => Ended::from(err),
        }
    }

    /// `var = conn.recv(bufsize)` for a message from the peer: waits for it (bounded), shows
    /// the receive queue, then reads. `b''` is [`Heard::HungUp`], shown with the TCP state of
    /// netlab's end; an RST is diagnosed.
    pub fn recv(&mut self, var: &str, bufsize: usize) -> PeerResult<Heard> {
        let call = self.recv_call(var, bufsize);
        self.await_peer(call, None, self.next_message())?;
        self.read_now(var, bufsize)
    }

    fn recv_call(&self, var: &str, bufsize: usize) -> String {
        format!(
            "{var} = {}",
            self.sock().call(format_args!("recv({bufsize})"))
        )
    }

    /// The read itself, once the socket is readable.
    fn read_now(&mut self, var: &str, bufsize: usize) -> PeerResult<Heard> {
        self.cx.trace.kernel().recv_queue(self.sock())?;
        match self.sock().recv_into_var(var, bufsize) {
            Ok(data) if data.is_empty() => {
                self.cx.trace.kernel().tcp_state_now(self.sock())?;
                Ok(Heard::HungUp)
            }
            Ok(data) => {
                self.heard.set(true);
                Ok(Heard::Data(data))
            }
            Err(err) => Err(self.went_wrong(err, None)),
        }
    }

    /// The client's next request after netlab's reply (`serve`), read like [`Call::recv`].
    /// While netlab waits for it, it looks at the client's socket every few milliseconds in
    /// the kernel's table of this machine's connections: a client that sits waiting with part
    /// of the last reply unread has read only part of it, and its next recv() returns that old
    /// tail in front of the new reply. The reading is shown when it holds still, and the stale
    /// tail is diagnosed when the request comes. (A client that reads the rest and sends its
    /// next request within one look, 5 ms, after holding still longer, looks the same.)
    pub fn recv_request(&mut self, var: &str, bufsize: usize) -> PeerResult<Heard> {
        if !self.replied.get() {
            return self.recv(var, bufsize);
        }
        let call = self.recv_call(var, bufsize);
        let idle_unread = self.watch_peer_queue(call)?;
        let unread_now = self.cx.trace.kernel().peer_recv_queue(self.sock())?;
        let heard = self.read_now(var, bufsize)?;
        let unread = unread_now.unwrap_or(0).max(idle_unread);
        if matches!(heard, Heard::Data(_)) && unread > 0 {
            self.report(Diagnosis::StaleTail { bytes: unread });
        }
        Ok(heard)
    }

    /// Waits for the next request like [`Call::await_peer`], looking at the peer's receive
    /// queue every [`PEER_LOOK`]; returns how many bytes it held still with (0: none).
    fn watch_peer_queue(&self, call: String) -> PeerResult<usize> {
        self.cx.trace.recorder().begin();
        let (limit, silence) = self.next_message();
        let deadline = Instant::now() + limit;
        let (mut last, mut shown, mut idle) = (None, None, 0);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let look = left.min(PEER_LOOK);
            match self
                .outside()
                .readable_within(self.sock().borrowed_fd(), Some(look))?
            {
                Waited::Ready => return Ok(idle),
                Waited::Stopped => return Err(Ended::Stopped),
                Waited::TimedOut if left <= PEER_LOOK => {
                    return Err(self.timed_out(call, limit, None, silence));
                }
                Waited::TimedOut => {}
            }
            let unread = crate::kernel::peer_unread_now(self.sock())?.unwrap_or(0);
            if last == Some(unread) {
                idle = unread;
                if unread > 0 && shown != Some(unread) {
                    let seen = self.cx.trace.kernel().peer_recv_queue(self.sock())?;
                    if shown.is_none() {
                        self.note(
                            "netlab looks at your client's socket while it waits for the next request: part of the last reply is still unread there.",
                            "netlab 在等下一个请求时查看你的客户端的套接字：上一个回复还有一部分没读，留在那里。",
                        );
                    }
                    shown = Some(seen.unwrap_or(0));
                    self.cx.trace.recorder().begin();
                }
            }
            last = Some(unread);
        }
    }

    /// A reply to a request netlab sent (`connect`): like [`Call::recv`], and a peer that
    /// hangs up instead of answering is diagnosed.
    pub fn recv_reply(&mut self, var: &str, bufsize: usize) -> PeerResult<Vec<u8>> {
        match self.recv(var, bufsize)? {
            Heard::Data(data) => Ok(data),
            Heard::HungUp => Err(self.fail(Diagnosis::ClosedWithoutReply)),
        }
    }

    /// A reply to a request netlab sent (`connect`) while `quiet`, netlab's other client of
    /// the same server, is connected and silent: like [`Call::recv_reply`], and a reply that
    /// does not come within the declared wait is looked for in the kernel's table of this
    /// machine's connections. Its bytes still unread in the server's socket mean that the
    /// server has not read this connection at all while `quiet` was connected: it serves one
    /// client at a time (`not_concurrent`), and the lines before the diagnosis show the
    /// server's receive queue for this connection and its accept queue. A server that read
    /// them and did not answer is diagnosed as silent, as any other.
    pub fn recv_reply_beside(
        &mut self,
        quiet: &Call,
        var: &str,
        bufsize: usize,
    ) -> PeerResult<Vec<u8>> {
        let call = self.recv_call(var, bufsize);
        let limit = self.outside().limit();
        self.cx.trace.recorder().begin();
        match self
            .outside()
            .readable_within(self.sock().borrowed_fd(), Some(limit))?
        {
            Waited::Ready => {}
            Waited::Stopped => return Err(Ended::Stopped),
            Waited::TimedOut => {
                let shown = Outside::show(limit);
                self.side()
                    .record(call, Outcome::Blocked(frames::blocks_for(&shown)));
                return Err(self.not_answered(quiet));
            }
        }
        match self.read_now(var, bufsize)? {
            Heard::Data(data) => Ok(data),
            Heard::HungUp => Err(self.fail(Diagnosis::ClosedWithoutReply)),
        }
    }

    /// Why the server did not answer this connection while `quiet` was connected, from the
    /// kernel's table: its bytes unread there (and connections not accepted) make it a server
    /// that serves one client at a time.
    fn not_answered(&self, quiet: &Call) -> Ended {
        let kernel = self.cx.trace.kernel();
        let unread = match kernel.peer_recv_queue(self.sock()) {
            Ok(unread) => unread.unwrap_or(0),
            Err(err) => return Ended::from(err),
        };
        if unread == 0 {
            return self.fail(Diagnosis::Silent);
        }
        let queued = match kernel.peer_accept_queue(self.sock()) {
            Ok(queued) => queued,
            Err(err) => return Ended::from(err),
        };
        self.fail(Diagnosis::NotConcurrent {
            client: self.number,
            quiet: quiet.number,
            unread,
            queued,
        })
    }

    /// One whole framed message, read the way the course reads it (`header = recv(4)`, the
    /// JSON header, then `recv(1024)` until the data is complete), each recv waiting for the
    /// peer. None when the peer closed cleanly before a new message began. A size over
    /// [`super::LIMIT`] is refused before anything of it is awaited or buffered.
    pub fn recv_frame(&mut self, decoder: &mut FrameDecoder) -> PeerResult<Option<Frame>> {
        let mut patient = Patient {
            conn: self.conn.as_mut().expect(OPEN),
            outside: self.cx.outside,
            recorder: self.cx.trace.recorder().clone(),
            timed_out: false,
            stopped: false,
        };
        let result = framing::read_frame(&mut patient, decoder, 1024);
        let (timed_out, stopped) = (patient.timed_out, patient.stopped);
        match result {
            Ok(frame) => Ok(frame),
            Err(ReadError::Frame(err)) => {
                let format = decoder.format();
                if let Some(header) = frames::refused_header(&err, format) {
                    let var = match format {
                        Format::LengthHeader => "total_size",
                        Format::JsonHeader => "json_len",
                    };
                    self.side().struct_unpack(var, Pack::NativeInt, header);
                }
                Err(self.fail(frames::diagnose(err, format, decoder.header_limit())))
            }
            Err(ReadError::Io(_)) if stopped => Err(Ended::Stopped),
            Err(ReadError::Io(_)) if timed_out => Err(self.fail(match frames::progress(decoder) {
                Some((piece, have, need)) => Diagnosis::Stalled { piece, have, need },
                None => Diagnosis::Silent,
            })),
            Err(ReadError::Io(err)) => Err(self.went_wrong(err, frames::progress(decoder))),
        }
    }

    /// After a whole reply (`connect`): watches a short, declared moment (
    /// [`super::outside::AFTER_REPLY`]) for bytes a sender sends right behind its reply, then shows the
    /// receive queue. Bytes there mean the peer sent more than it announced: diagnosed, and
    /// the conversation ends, because its messages no longer line up.
    pub fn check_nothing_more(&self) -> PeerResult {
        self.cx.trace.recorder().begin();
        let waited = self
            .outside()
            .readable_within(self.sock().borrowed_fd(), Some(super::outside::AFTER_REPLY))?;
        if waited == Waited::Stopped {
            return Err(Ended::Stopped);
        }
        let left = self.cx.trace.kernel().recv_queue(self.sock())?;
        if left > 0 {
            return Err(self.fail(Diagnosis::Leftover { bytes: left }));
        }
        Ok(())
    }

    /// Waits (bounded) until more than `have` bytes wait in netlab's receive queue: a new reply
    /// arriving behind bytes already there. The kernel cannot signal that the queue grew, so
    /// this looks every millisecond; it returns the new count.
    pub fn await_more_than(&self, have: usize) -> PeerResult<usize> {
        self.cx.trace.recorder().begin();
        let deadline = Instant::now() + self.outside().limit();
        loop {
            let now = sys::recv_queue(self.sock().borrowed_fd())?;
            if now > have {
                return Ok(now);
            }
            if self.outside().stop_requested() {
                return Err(Ended::Stopped);
            }
            if Instant::now() >= deadline {
                return Err(self.fail(Diagnosis::Silent));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// After netlab sent FIN (`shutdown(SHUT_WR)`): reads until the peer closes its end too,
    /// each read bounded. A peer that keeps its end open for the whole wait is diagnosed,
    /// with the state of its end from the kernel's table.
    pub fn await_close(&mut self, var: &str) -> PeerResult {
        /// More replies than this after a FIN means the peer streams: it is not closing.
        const READS: usize = 16;
        for _ in 0..READS {
            let call = format!("{var} = {}", self.sock().call("recv(1024)"));
            self.cx.trace.recorder().begin();
            match self.outside().readable(self.sock().borrowed_fd())? {
                Waited::Stopped => return Err(Ended::Stopped),
                Waited::TimedOut => {
                    let shown = self.outside().shown_limit();
                    self.side()
                        .record(call, Outcome::Blocked(frames::blocks_for(&shown)));
                    let (mine, theirs) = match self.sock().known_ends() {
                        Some(ends) => ends,
                        None => (self.sock().local_addr()?, self.sock().peer_addr()?),
                    };
                    self.cx
                        .trace
                        .kernel()
                        .tcp_state_between_seen(&theirs, &mine)?;
                    return Err(self.fail(Diagnosis::NotClosed));
                }
                Waited::Ready => {}
            }
            match self.sock().recv_into_var(var, 1024) {
                Ok(data) if data.is_empty() => return Ok(()),
                Ok(_) => {}
                Err(err) => return Err(self.went_wrong(err, None)),
            }
        }
        Err(self.fail(Diagnosis::NotClosed))
    }

    /// `conn.sendall(data)` to the peer, which reads at its own pace: waited for as long as it
    /// keeps reading; a peer that stops reading for the whole limit is diagnosed.
    pub fn sendall(&self, data: &[u8]) -> PeerResult {
        self.cx.trace.recorder().begin();
        let outside = self.outside();
        let give_up = move || outside.stop_requested();
        self.replied.set(true);
        match self.sock().sendall_watched(data, outside.limit(), &give_up) {
            Ok(Watched::Sent) => Ok(()),
            Ok(Watched::Blocked { taken }) => Err(self.fail(Diagnosis::NotReading {
                taken,
                total: data.len(),
                selector: false,
            })),
            Ok(Watched::GaveUp) => Err(Ended::Stopped),
            Err(err) => Err(self.went_wrong(err, None)),
        }
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

    /// The remote-command server's step for a command text the client sent: only a text on
    /// netlab's fixed list runs, through the command runner (no shell, time-limited, output
    /// capped); for any other text the reply is a sentence saying it is not allowed and why.
    /// Returns what the server sends back.
    pub fn run_command(&self, cmd: &[u8]) -> PeerResult<Vec<u8>> {
        match self.side().run_command("res", cmd) {
            Ok(out) => Ok(out.combined()),
            Err(CommandError::Refused(refused)) => {
                self.note(
                    "netlab runs only the commands on its fixed list, never a shell, so a command text from the network cannot do anything else on this machine. The client gets a reply saying so, sent back the way any reply is.",
                    "netlab 只运行固定清单上的命令，从不经过 shell，所以从网络来的命令文本不能在这台机器上做别的事。客户端会收到一条说明原因的回复，发送方式和其他回复一样。",
                );
                Ok(refusal(&refused.shown(), self.cx.trace.lang()))
            }
            Err(err) => {
                let lang = self.cx.trace.lang();
                let text = phrases::PEER_COMMAND_FAILED.fill(lang, &[("err", &err)]);
                Ok(format!("{text}\n").into_bytes())
            }
        }
    }

    /// `conn.close()`: netlab hangs up.
    pub fn hang_up(mut self) {
        if let Some(conn) = self.conn.take() {
            conn.close();
        }
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<Addr> {
        self.sock().peer_addr()
    }
}

/// A call that ends without [`Call::hang_up`] (a lab's program returned early, on a
/// diagnosis say) still closes its socket with a `close()` line, as the program's end would.
impl Drop for Call {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            conn.close();
        }
    }
}

/// Why [`Call::sock`] always finds the socket: only `hang_up` and `drop` take it, and both
/// end the call.
const OPEN: &str = "a call's socket is open until the call ends";

/// The reply to a command that is not on the list, in the trace's language.
fn refusal(shown: &str, lang: Lang) -> Vec<u8> {
    let list: Vec<&str> = commands::ALLOWED.iter().map(|c| c.text()).collect();
    let commands = list.join(", ");
    let text =
        phrases::PEER_COMMAND_REFUSED.fill(lang, &[("commands", &commands), ("command", &shown)]);
    format!("{text}\n").into_bytes()
}

/// netlab's client side (`connect`): dials the peer's server, once or more.
pub struct Dialer {
    cx: Context,
    server: Addr,
    /// Connections dialled so far: the next call is number one more.
    dialled: Cell<u32>,
}

impl Dialer {
    pub(crate) fn new(cx: Context, server: Addr) -> Dialer {
        Dialer {
            cx,
            server,
            dialled: Cell::new(0),
        }
    }

    pub fn trace(&self) -> &Trace {
        &self.cx.trace
    }

    /// The server's address: 127.0.0.1 and the port.
    pub fn server(&self) -> &Addr {
        &self.server
    }

    pub fn note(&self, en: impl Into<String>, zh: impl Into<String>) {
        self.cx.note(en, zh);
    }

    /// Opens a new part of the trace before the next line.
    pub fn section(&self, en: &'static str, zh: &'static str) {
        self.cx.trace.section(en, zh);
    }

    /// `var = socket(AF_INET, SOCK_STREAM)` and `var.connect(server)` for program `side`
    /// (`client`, `client-2` ...). A refused connection is diagnosed: nothing listens there.
    pub fn dial(&self, side: &str, var: &str) -> PeerResult<Call> {
        let sock = self.cx.trace.side(side).tcp(var)?;
        match sock.connect(&self.server) {
            Ok(()) => {
                let number = self.dialled.get() + 1;
                self.dialled.set(number);
                Ok(Call::new(self.cx.clone(), sock, number))
            }
            Err(err) if err.raw_os_error() == Some(libc::ECONNREFUSED) => {
                let port = self.server.port().unwrap_or(0);
                Err(self.cx.fail(Diagnosis::Refused { port }))
            }
            Err(err) => Err(Ended::from(err)),
        }
    }
}
