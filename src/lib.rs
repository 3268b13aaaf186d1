//! netlab runs the socket course's programs on real kernel sockets and prints what each side
//! did and what the kernel did, as a deterministic, annotated trace.
//!
//! Labs live in `labs/NN-name/lab.rs` and speak only the vocabulary of this crate: sides whose
//! sockets record their calls ([`sock`]), kernel probes ([`kernel`]) and notes ([`trace`]).
//!
//! Modules depend one way (tests/architecture.rs checks it): the trace model and its
//! renderers at the bottom, then the recorder, the socket layer with its register of
//! sockets, the kernel probes and program steps, and [`trace::Trace`] on top, which ties
//! them together for a lab.

// Only `sys` talks to the kernel through raw pointers; everything else is safe Rust.
#![deny(unsafe_code)]

// Labs are compiled inside this crate but written as if outside it: `use netlab::prelude::*`.
extern crate self as netlab;

mod catalog;
pub mod cleanup;
pub mod clock;
pub mod commands;
pub mod errno;
pub mod event;
mod framed;
pub mod framing;
pub mod kernel;
pub mod lab;
pub mod memory;
pub mod names;
pub mod peer;
pub mod phrases;
pub mod program;
pub mod pyrepr;
pub mod recorder;
pub mod render;
pub mod snapshot;
pub mod sock;
pub mod sockdiag;
pub mod syn_retries;
mod sys;
pub mod trace;
pub mod wire;

/// What a lab file needs.
pub mod prelude {
    pub use crate::clock::Clock;
    pub use crate::event::Text;
    pub use crate::kernel::{FileKind, TcpState};
    pub use crate::program::Pack;
    pub use crate::recorder::Figure;
    pub use crate::sock::sendall::SendAll;
    pub use crate::sock::socketserver::POLL_INTERVAL;
    pub use crate::sock::{is_blocked, raised_blocking_io, Addr, Shutdown, Sock};
    pub use crate::trace::{LabError, LabResult, Trace, WireMark};
}
