//! Peer mode (`netlab serve`, `netlab connect`): netlab plays one side of a lab against a
//! program it does not control, a student's own client or server on this machine's loopback.
//!
//! The trace contract is the one of a lab run (Python notation, both languages, stable names,
//! the kernel's view); what changes is that the other side is outside this process:
//!
//! - netlab cannot know when that program will act, so every wait for it inside a
//!   conversation is bounded by a declared limit ([`Settings::wait`], by default
//!   [`crate::sock::wait::EXTERNAL`]) and watched together with Ctrl-C ([`outside`]);
//! - what it sends is checked, never trusted: a length it announces is checked against a small
//!   limit ([`LIMIT`]) before anything is buffered, and what it does wrong becomes a diagnosis
//!   line ([`Diagnosis`]) with a stable code in JSON;
//! - a misbehaving peer ends only its own conversation: `serve` goes on with the next client.
//!
//! A lab offers peer mode with a `peer.rs` in its folder that declares a [`PeerMode`]: the
//! course's port for the lab and the programs netlab plays, written with [`Call`],
//! [`Dialer`] and [`Datagrams`]. The engine runs the parts every such program shares: the
//! server's socket, bind, listen and link loop, the client's socket and connect ([`session`]).

mod call;
mod context;
mod datagrams;
mod diagnosis;
mod endpoint;
mod event_loop;
mod frames;
mod outside;
mod session;

use std::io;

pub use call::{Call, Dialer, Heard};
pub use datagrams::Datagrams;
pub use diagnosis::Diagnosis;
pub use endpoint::{check_host, NotLoopback};
pub use event_loop::MAX_CLIENTS;
pub use session::{connect, serve, Report, SessionError, Settings};

use crate::commands::CommandError;
use crate::event::Text;
use crate::framing::ReadError;
use crate::kernel::ProbeError;
use crate::trace::LabError;

/// The largest message netlab accepts from a peer: 1 MiB, checked against what a header
/// announces before a byte of it is buffered. The labs' replies are at most a few hundred KiB
/// (`seq 1 100000` prints 588,895 bytes); a header that announces more is not a real header.
pub const LIMIT: usize = 1024 * 1024;

/// What netlab does in peer mode: plays the server (`serve`) or the client (`connect`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Serve,
    Connect,
}

/// What a lab offers in peer mode, declared in its folder's peer.rs as `pub const PEER`.
pub struct PeerMode {
    /// The port the course's programs use for this lab (8080, 8081, 8082, 9000).
    pub course_port: u16,
    /// netlab as the server, for a student's client.
    pub serve: Option<Serve>,
    /// netlab as the client, for a student's server.
    pub connect: Option<Connect>,
}

impl PeerMode {
    /// Whether the lab offers `role`.
    pub fn offers(&self, role: Role) -> bool {
        match role {
            Role::Serve => self.serve.is_some(),
            Role::Connect => self.connect.is_some(),
        }
    }

    /// The transport the lab's programs use (an event loop serves TCP).
    pub fn is_udp(&self) -> bool {
        matches!(self.serve, Some(Serve::Datagrams(_)))
            || matches!(self.connect, Some(Connect::Datagrams(_)))
    }
}

/// netlab's server: for TCP, one conversation with each client it accepts, one client after
/// another (`Calls`) or many at once (`EventLoop`); for UDP, one request (a datagram in, the
/// answer out).
#[derive(Clone, Copy)]
pub enum Serve {
    Calls(fn(&mut Call) -> PeerResult),
    Datagrams(fn(&mut Datagrams) -> PeerResult),
    EventLoop(EventLoop),
}

/// netlab's server for a lab whose server serves many clients at once: one event loop over a
/// selector, as lab 19 teaches (see the module `event_loop`). Each message a client sends,
/// as one recv(1024) returns it, gets one answer.
#[derive(Clone, Copy)]
pub struct EventLoop {
    /// What netlab answers to the bytes one recv() returned (the course's `data.upper()`).
    pub answer: fn(&[u8]) -> Vec<u8>,
    /// The lab's note on how netlab serves, under the server's first lines: how its server
    /// compares with the lab's own (lab 18's gives each client a thread, which netlab's does
    /// not).
    pub how: &'static Text,
}

/// netlab's client: for TCP it dials (once or more) with the [`Dialer`]; for UDP it sends to
/// the server's address through its [`Datagrams`].
#[derive(Clone, Copy)]
pub enum Connect {
    Calls(fn(&Dialer) -> PeerResult),
    Datagrams(fn(&mut Datagrams) -> PeerResult),
}

/// How a conversation with the peer ended, when not as the lab's protocol expects.
#[derive(Debug)]
pub enum Ended {
    /// The peer did something the protocol does not allow; the diagnosis line with this code
    /// is in the trace.
    Diagnosed(&'static str),
    /// Ctrl-C while netlab waited for the peer (`serve`).
    Stopped,
    /// netlab itself could not go on (a call that failed for a reason of netlab's own, a
    /// probe the kernel refused); the trace shows the failed call.
    Failed(LabError),
}

pub type PeerResult<T = ()> = Result<T, Ended>;

impl From<io::Error> for Ended {
    fn from(err: io::Error) -> Self {
        Ended::Failed(LabError::Call(err))
    }
}

impl From<LabError> for Ended {
    fn from(err: LabError) -> Self {
        Ended::Failed(err)
    }
}

impl From<ProbeError> for Ended {
    fn from(err: ProbeError) -> Self {
        Ended::Failed(err.into())
    }
}

impl From<CommandError> for Ended {
    fn from(err: CommandError) -> Self {
        Ended::Failed(err.into())
    }
}

impl From<ReadError> for Ended {
    fn from(err: ReadError) -> Self {
        Ended::Failed(err.into())
    }
}

/// What a peer.rs needs.
pub mod prelude {
    pub use super::{
        Call, Connect, Datagrams, Diagnosis, Dialer, Ended, EventLoop, Heard, PeerMode, PeerResult,
        Serve,
    };
    pub use crate::event::Text;
    pub use crate::framing::{self, FrameDecoder};
    pub use crate::kernel::TcpState;
    pub use crate::program::Pack;
    pub use crate::sock::{Addr, Sock};
}
