//! What a lab holds while it runs: it hands out sides (server, client ...) whose sockets record
//! every call, the kernel's probes, notes and section headings, and the lab's own summary
//! lines. It ties the recorder (the trace's events) to the register of the lab's sockets.

use std::fmt;
use std::io;
use std::path::PathBuf;

use crate::commands::CommandError;
use crate::event::{Kind, Lang, Outcome, Text};
use crate::framing::ReadError;
use crate::kernel::{Kernel, Mismatch, ProbeError};
use crate::recorder::Recorder;
pub use crate::recorder::{Figure, TraceOptions};
use crate::render::Sink;
use crate::sock::registry::Registry;
use crate::sock::Side;

/// Why a lab stopped early (the trace up to that point is still printed).
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// A call failed that the lesson expects to succeed.
    #[error("{}", python_error(.0))]
    Call(#[from] io::Error),
    /// A probe showed something other than what the lab's notes describe.
    #[error("the kernel did not show what this lab describes: {0}")]
    Observed(#[from] Mismatch),
    /// A relation the lab relies on did not hold (see [`Trace::expect`]).
    #[error("the kernel did not behave as this lab expects: {0}")]
    Unexpected(String),
    /// Reading a framed message failed.
    #[error(transparent)]
    Framing(#[from] ReadError),
    /// The remote-command program could not run a command.
    #[error(transparent)]
    Command(#[from] CommandError),
}

impl From<ProbeError> for LabError {
    fn from(err: ProbeError) -> Self {
        match err {
            ProbeError::Io(err) => LabError::Call(err),
            ProbeError::Mismatch(mismatch) => LabError::Observed(mismatch),
        }
    }
}

/// A failed call as Python reports it, or the error's own words when no errno is behind it.
fn python_error(err: &io::Error) -> String {
    match crate::errno::of(err) {
        Some(errno) => errno.python(),
        None => err.to_string(),
    }
}

pub type LabResult<T = ()> = Result<T, LabError>;

/// A running lab. Cheap to clone: every handle shares the same run.
#[derive(Clone)]
pub struct Trace {
    lab: &'static str,
    recorder: Recorder,
    registry: Registry,
}

impl Trace {
    pub(crate) fn new(lab: &'static str, options: TraceOptions, sink: Box<dyn Sink>) -> Trace {
        Trace {
            lab,
            recorder: Recorder::new(options, sink),
            registry: Registry::new(options.raw),
        }
    }

    /// A program taking part: `server`, `client`, `client-2` ...
    pub fn side(&self, name: &str) -> Side {
        Side::new(self.recorder.clone(), self.registry.clone(), name)
    }

    /// Observations read from the kernel, shown as `kernel` lines.
    pub fn kernel(&self) -> Kernel {
        Kernel::new(self.recorder.clone(), self.registry.clone())
    }

    /// Opens a new part of the lesson before the next event.
    pub fn section(&self, en: &'static str, zh: &'static str) {
        self.recorder.section(Text::new(en, zh));
    }

    /// A note on the event just recorded (or, before any, on the next one).
    pub fn note(&self, en: impl Into<String>, zh: impl Into<String>) {
        self.recorder.note(Text::new(en.into(), zh.into()));
    }

    /// A line of the lab's own, labelled `lab`: a summary it drew from the lines above (how
    /// many clients the probes found in each state, say). Unlike a `kernel` line it is not a
    /// reading of the kernel, and the trace says so by its label.
    pub fn summary(&self, what: Text, result: Text) {
        self.recorder
            .emit("lab", Kind::Summary, what, Outcome::Returned(result));
    }

    /// Stops the lab with an error when the kernel did not do what the lesson relies on.
    /// Labs use it to state their assumptions, so a surprising kernel fails loudly instead of
    /// printing a lesson that this run did not show.
    pub fn expect(&self, holds: bool, what: impl Into<String>) -> LabResult {
        if holds {
            Ok(())
        } else {
            Err(LabError::Unexpected(what.into()))
        }
    }

    pub fn lab_id(&self) -> &'static str {
        self.lab
    }

    pub fn lang(&self) -> Lang {
        self.recorder.options().lang
    }

    pub fn is_raw(&self) -> bool {
        self.recorder.is_raw()
    }

    /// A temporary directory for this run, removed when the lab ends (or on a signal); shown
    /// as `TMP`.
    pub fn temp_dir(&self) -> io::Result<PathBuf> {
        self.registry.temp_dir()
    }

    /// A run-dependent figure as a note shows it: `figure`'s name unless `--raw`.
    pub fn named_value(&self, figure: Figure, value: impl fmt::Display) -> String {
        self.recorder.named_value(figure, value)
    }

    /// Runs one recorded call or probe whose figure depends on the machine (how many bytes a
    /// non-blocking `send()` took, a queue length) and shows that figure as `figure`'s name in
    /// its trace line unless `--raw`, so default output stays the same everywhere:
    ///
    /// ```ignore
    /// const SENT: Figure = Figure::new("SENT");
    /// let sent = t.named(SENT, || sock.send(&data))?;   // sock.send(b'...')  -> SENT
    /// ```
    ///
    /// Only the call's run-dependent figure takes the name (a send's count, a queue's length,
    /// a recv's byte count, the bytes a sendall took); fixed figures stay numbers. Write the
    /// relation the lesson relies on (`sent < data.len()`) as a `t.expect`, and use
    /// [`Trace::named_value`] for the same figure in notes.
    pub fn named<T>(&self, figure: Figure, call: impl FnOnce() -> T) -> T {
        self.recorder.named(figure, call)
    }

    /// The recorder, for engine code that writes lines of its own (peer mode's diagnoses).
    pub(crate) fn recorder(&self) -> &Recorder {
        &self.recorder
    }

    /// The register of this run's sockets and names.
    pub(crate) fn registry(&self) -> &Registry {
        &self.registry
    }

    pub(crate) fn start(&self, title: &Text) -> io::Result<()> {
        self.recorder.start(self.lab, title)
    }

    /// Sends the last event and reports any output error (a closed pipe, say).
    pub(crate) fn finish(&self) -> io::Result<()> {
        self.recorder.finish(self.lab)
    }
}
