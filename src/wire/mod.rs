//! The wire: the TCP segments, UDP datagrams and ICMP messages a lab puts on lo, captured in a
//! private network namespace and shown in tcpdump's notation (`--wire`).
//!
//! Three steps, each its own module, for the engine to call:
//!
//! 1. [`netns::enter_private`], first thing in `main` before any thread starts: the process
//!    gets a network namespace of its own (and a user namespace when it is not root) with lo
//!    up. A refusal is a [`netns::Refused`] whose text is the one sentence to print before
//!    exiting with status 2.
//! 2. [`Capture::loopback`] opens a packet socket on that lo; [`Capture::drain`] returns each
//!    packet sent since the previous drain, once, in the order it was sent.
//! 3. A [`Notation`] per capture turns packets into [`Wire`] records with sequence numbers
//!    relative to each side's first; [`Wire::text`] is the trace line and [`Wire::json`] the same
//!    facts as fields, both naming addresses through a [`Naming`] the engine provides.
//!
//! When a segment shows up relative to the syscalls is measured in `tests/wire.rs`: every
//! segment a syscall sends, and every segment the peer's kernel sends at once in answer, is in
//! the capture when that syscall returns; a delayed ACK only when its timer fires.
//!
//! In a lab run the engine puts them together: after each socket call it waits until the
//! kernel shows that the call's traffic is over ([`settle`]), and the recorder's [`tap`] then
//! adds the packets as `wire` lines right after the call's line.

pub mod capture;
pub mod decode;
pub mod netns;
pub mod notation;
pub mod settle;
pub mod tap;

pub use capture::{Capture, Drained};
pub use decode::{decode, DecodeError, Packet};
pub use netns::{enter_private, Entered, Refused};
pub use notation::{Naming, Notation, Numeric, Style, Wire};
pub use tap::{Captured, Seen, What};
